"""The project's declared fix-ups of the official Run:ai documents, each with its reason, in one place.

The official documents are published for code generators, not for fuzzers or servers. Two tables use the
functions below:

- `READING` is applied in memory when `contracts run` reads a document (ours or an official one); every
  change it makes is reported, never applied silently.
- `SERVING` is `READING` plus what the served contracts need beyond it; `scripts/derive_contracts.py`
  applies it when it writes `spec/` from the official documents.

A fix-up takes the document and changes it in place; it returns one note per kind of change it made
(nothing when the document needed none).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

TOKEN_OPERATION = "grant_token"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_SCHEMAS = "#/components/schemas/"


@dataclass(frozen=True)
class FixUp:
    name: str
    reason: str
    apply: Callable[[dict[str, Any]], list[str]]


def operation_items(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in (document.get("paths") or {}).items():
        for method, operation in (item or {}).items():
            if method in METHODS and isinstance(operation, dict):
                yield path, method, operation


def rewrite(node: Any, change: Callable[[dict[str, Any]], bool]) -> int:
    """Apply `change` to every mapping below `node`; returns how many it changed."""
    if isinstance(node, dict):
        return int(change(node)) + sum(rewrite(value, change) for value in node.values())
    if isinstance(node, list):
        return sum(rewrite(value, change) for value in node)
    return 0


def parameter(document: dict[str, Any], declared: dict[str, Any]) -> dict[str, Any]:
    ref = declared.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/parameters/"):
        found = (document.get("components", {}).get("parameters") or {}).get(ref.rsplit("/", 1)[1])
        return found if isinstance(found, dict) else {}
    return declared


def _schemas(document: dict[str, Any]) -> dict[str, Any]:
    found = document.get("components", {}).get("schemas")
    return found if isinstance(found, dict) else {}


# --- applied whenever a document is read -------------------------------------------------------------


def exempt_token_operation(document: dict[str, Any]) -> list[str]:
    for _, _, operation in operation_items(document):
        if operation.get("operationId") == TOKEN_OPERATION and "security" not in operation:
            operation["security"] = []
            return ["grant_token inherits the global bearer requirement: treated as unauthenticated"]
    return []


def document_malformed_query_answers(document: dict[str, Any]) -> list[str]:
    existing = next(
        (
            operation["responses"]["400"]
            for _, _, operation in operation_items(document)
            if "400" in (operation.get("responses") or {})
        ),
        {"description": "The query is malformed."},
    )
    added = []
    for _, method, operation in operation_items(document):
        responses = operation.get("responses") or {}
        queried = any(
            isinstance(declared, dict) and parameter(document, declared).get("in") == "query"
            for declared in operation.get("parameters", [])
        )
        if queried and "400" not in responses and "default" not in responses:
            responses["400"] = copy.deepcopy(existing)
            added.append(str(operation.get("operationId", method)))
    if not added:
        return []
    return [
        f"{len(added)} operation(s) take query parameters but document no 400 for a malformed one "
        f"({', '.join(added)}): the document's own 400 answer added"
    ]


def department_ids_as_used(document: dict[str, Any]) -> list[str]:
    dropped = 0
    for name, schema in _schemas(document).items():
        if name.startswith("Department"):
            dropped += rewrite(schema, _drop_uuid_format_of_id)
    return (
        [f"{dropped} department id schema(s) demand a uuid the document's own ids are not: format dropped"]
        if dropped
        else []
    )


def _drop_uuid_format_of_id(schema: dict[str, Any]) -> bool:
    identifier = (schema.get("properties") or {}).get("id")
    if isinstance(identifier, dict) and identifier.get("format") == "uuid":
        del identifier["format"]
        return True
    return False


def type_untyped_objects(document: dict[str, Any]) -> list[str]:
    count = rewrite(_schemas(document), _add_object_type)
    return [f"{count} schema(s) declare properties without `type: object`: typed as objects"] if count else []


def _add_object_type(schema: dict[str, Any]) -> bool:
    # A `properties` mapping can itself hold a property named "required" (a schema, not a list of names).
    declares = isinstance(schema.get("properties"), dict) or isinstance(schema.get("required"), list)
    if declares and "type" not in schema and "$ref" not in schema:
        schema["type"] = "object"
        return True
    return False


def null_in_nullable_enums(document: dict[str, Any]) -> list[str]:
    count = rewrite(document, _add_null_to_enum)
    return (
        [f"{count} nullable enum(s) do not list null: null added, as `nullable: true` intends"]
        if count
        else []
    )


def _add_null_to_enum(schema: dict[str, Any]) -> bool:
    enum = schema.get("enum")
    if schema.get("nullable") is True and isinstance(enum, list) and None not in enum:
        enum.append(None)
        return True
    return False


READING = (
    FixUp(
        "token-unauthenticated",
        "The token endpoint cannot demand the token it hands out; the official documents inherit the global "
        "bearer requirement there only because they never override it.",
        exempt_token_operation,
    ),
    FixUp(
        "malformed-query-400",
        "A fuzzer sends malformed queries (`sortOrder=AAA`, a limit of -1) and any backend refuses them with "
        "400; the official documents declare that answer on the org-unit lists but not on the workloads "
        "lists or the cluster reads. The answer added is the one the document gives its other malformed "
        "queries.",
        document_malformed_query_answers,
    ),
    FixUp(
        "department-ids",
        "2.18's department list and its parent/child links give a department's `id` the uuid format, while "
        "the same document's department read, the department path parameter, the trainings' `departmentId` "
        'and every example use ids such as "2" (later documents dropped the format from the list).',
        department_ids_as_used,
    ),
    FixUp(
        "typed-objects",
        "Schemas that declare properties but no type accept a bare number or string (the official "
        "TrainingCreationRequest is an allOf of type-less property lists), so `5` would pass as a create "
        "body.",
        type_untyped_objects,
    ),
    FixUp(
        "nullable-enums",
        "OpenAPI 3.0.3 lets an enum restrict a nullable value too, so null is valid only when listed; the "
        "Run:ai documents mark optional enums nullable without listing it, and a validator would refuse the "
        "null the API accepts.",
        null_in_nullable_enums,
    ),
)


# --- applied when the served contracts are derived ----------------------------------------------------


def unauthorized_answers(document: dict[str, Any]) -> list[str]:
    existing = next(
        (
            operation["responses"]["401"]
            for _, _, operation in operation_items(document)
            if "401" in (operation.get("responses") or {})
        ),
        None,
    )
    global_security = document.get("security") or []
    added = []
    for _, _, operation in operation_items(document):
        responses = operation.setdefault("responses", {})
        secured = any(requirement for requirement in operation.get("security", global_security))
        if existing is not None and secured and "401" not in responses:
            responses["401"] = copy.deepcopy(existing)
            added.append(str(operation.get("operationId")))
    return [f"401 added to {', '.join(added)}: the document's own 401 answer"] if added else []


def client_credentials_grant(document: dict[str, Any]) -> list[str]:
    grant = _schemas(document).get("TokenRequest", {}).get("properties", {}).get("grantType", {})
    enum = grant.get("enum")
    if isinstance(enum, list) and "client_credentials" not in enum:
        enum.append("client_credentials")
        return ["TokenRequest.grantType: client_credentials added"]
    return []


def bare_references(document: dict[str, Any]) -> list[str]:
    count = rewrite(document, _drop_reference_siblings)
    return [f"{count} reference(s) with keys beside `$ref`: those keys dropped"] if count else []


def _drop_reference_siblings(node: dict[str, Any]) -> bool:
    if isinstance(node.get("$ref"), str) and len(node) > 1:
        ref = node["$ref"]
        node.clear()
        node["$ref"] = ref
        return True
    return False


def merge_compositions(document: dict[str, Any]) -> list[str]:
    schemas = _schemas(document)
    merged = rewrite(document, lambda node: _merge_all_of(node, schemas))
    return [f"{merged} allOf composition(s) merged into plain object schemas"] if merged else []


def _merge_all_of(node: dict[str, Any], schemas: dict[str, Any]) -> bool:
    parts = node.get("allOf")
    if not isinstance(parts, list):
        return False
    result: dict[str, Any] = {}
    for part in [*parts, {k: v for k, v in node.items() if k != "allOf"}]:
        while isinstance(part, dict) and "$ref" in part:
            part = schemas[part["$ref"].removeprefix(_SCHEMAS)]
        part = copy.deepcopy(part)
        _merge_all_of(part, schemas)
        _merge_into(result, part)
    if "properties" in result or "required" in result:
        result.setdefault("type", "object")
    node.clear()
    node.update(result)
    return True


def _merge_into(target: dict[str, Any], part: dict[str, Any]) -> None:
    for key, value in part.items():
        if key == "properties":
            properties = target.setdefault("properties", {})
            for name, schema in value.items():
                properties[name] = _both(properties[name], schema) if name in properties else schema
        elif key == "required":
            required = target.setdefault("required", [])
            required.extend(name for name in value if name not in required)
        else:
            target.setdefault(key, value)


def _both(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """One schema a value must satisfy where two allOf parts both describe a property."""
    if first == second:
        return first
    if "$ref" in first or "$ref" in second:
        return {"allOf": [first, second]}  # merged in turn, the references resolved
    result = dict(first)
    for key, value in second.items():
        if key not in result or key in ("description", "example", "examples", "title"):
            result.setdefault(key, value)
        elif result[key] != value:
            if key not in ("properties", "required"):
                raise ValueError(f"allOf parts disagree about {key!r}: {result[key]!r} vs {value!r}")
            merged: dict[str, Any] = {}
            _merge_into(merged, {key: result[key]})
            _merge_into(merged, {key: value})
            result[key] = merged[key]
    return result


def cut_recursion(document: dict[str, Any]) -> list[str]:
    schemas = _schemas(document)
    cut: list[str] = []

    def visit(node: Any, stack: tuple[str, ...]) -> None:
        if isinstance(node, list):
            for child in node:
                visit(child, stack)
        elif isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(_SCHEMAS):
                name = ref.removeprefix(_SCHEMAS)
                if name in stack:
                    node.clear()
                    node["type"] = "object"
                    cut.append(f"{stack[-1]}→{name}")
                else:
                    visit(schemas.get(name), (*stack, name))
                return
            for child in node.values():
                visit(child, stack)

    for name in list(schemas):
        visit(schemas[name], (name,))
    return [f"recursive reference(s) cut to a plain object: {', '.join(sorted(cut))}"] if cut else []


def drop_field_examples(document: dict[str, Any]) -> list[str]:
    count = sum(_drop_examples(schema) for schema in _schemas(document).values())
    return [f"{count} field-level example(s) dropped"] if count else []


def _drop_examples(schema: Any) -> int:
    if isinstance(schema, list):
        return sum(_drop_examples(child) for child in schema)
    if not isinstance(schema, dict):
        return 0
    count = int(schema.pop("example", None) is not None) + int(schema.pop("examples", None) is not None)
    for key, child in schema.items():
        if key == "properties" and isinstance(child, dict):
            count += sum(_drop_examples(value) for value in child.values())
        elif isinstance(child, (dict, list)):
            count += _drop_examples(child)
    return count


SERVING = (
    *READING,
    FixUp(
        "unauthorized-answers",
        "Every secured operation answers 401 without a valid token; 2.18 covers that on its node-pool list "
        "only with `default`.",
        unauthorized_answers,
    ),
    FixUp(
        "client-credentials",
        "Later versions add the `client_credentials` grant and clients already send it (NeMo-Run, runapy); "
        "the fake accepts it in every version.",
        client_credentials_grant,
    ),
    FixUp(
        "bare-references",
        "In OpenAPI 3.0 a reference replaces its whole object, so keys beside `$ref` (a `type`, `nullable`, "
        "a description, 2.21's misspelt `depracted`) mean nothing, and Connexion refuses a document where a "
        "schema has them.",
        bare_references,
    ),
    FixUp(
        "recursion-cut",
        "Connexion inlines every $ref to serve GET /api/v1/openapi.json; a schema that contains itself (a "
        "department's parent's parent) would make that a 500. The recursive link becomes a plain object.",
        cut_recursion,
    ),
    FixUp(
        "merged-compositions",
        "The fast path compiles a request check only for plain object schemas (allOf goes through the "
        "slower validator), and a flat schema reads field by field; the fields, types and constraints stay "
        "those of the official document (tests/api/test_contract_document.py).",
        merge_compositions,
    ),
    FixUp(
        "field-examples",
        "The official field examples do not make a valid request together (a GPU portion beside a MIG "
        "profile, placeholder strings), and a fuzzer's explicit-examples phase sends them as positive "
        "data; the served contract shows whole examples of its own, each validated (spec/served.yaml).",
        drop_field_examples,
    ),
)


def apply(fixups: tuple[FixUp, ...], document: dict[str, Any]) -> list[str]:
    """Apply `fixups` in order; the notes of those that changed something."""
    return [note for fixup in fixups for note in fixup.apply(document)]

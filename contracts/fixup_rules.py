"""The fix-up functions `contracts.fixups` lists (with their reasons): each changes a document in place and
returns one note per kind of change it made."""

from __future__ import annotations

import copy
from typing import Any

from contracts.docwalk import operation_items, parameter, rewrite
from contracts.docwalk import schemas as schemas_of

TOKEN_OPERATION = "grant_token"
_SCHEMAS = "#/components/schemas/"


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


def document_malformed_body_answers(document: dict[str, Any]) -> list[str]:
    """Operations that take a request body but document no 400 (the inference PATCH) get the document's own
    400 answer: a body that is not the schema's object is refused by any backend."""
    existing = next(
        (
            operation["responses"]["400"]
            for _, _, operation in operation_items(document)
            if "400" in (operation.get("responses") or {})
        ),
        {"description": "The request body is malformed."},
    )
    added = []
    for _, method, operation in operation_items(document):
        responses = operation.get("responses") or {}
        if "requestBody" in operation and "400" not in responses and "default" not in responses:
            responses["400"] = copy.deepcopy(existing)
            added.append(str(operation.get("operationId", method)))
    if not added:
        return []
    return [
        f"{len(added)} operation(s) take a request body but document no 400 for a malformed one "
        f"({', '.join(added)}): the document's own 400 answer added"
    ]


def department_ids_as_used(document: dict[str, Any]) -> list[str]:
    dropped = 0
    for name, schema in schemas_of(document).items():
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
    count = rewrite(schemas_of(document), _add_object_type)
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
    grant = schemas_of(document).get("TokenRequest", {}).get("properties", {}).get("grantType", {})
    enum = grant.get("enum")
    if isinstance(enum, list) and "client_credentials" not in enum:
        enum.append("client_credentials")
        return ["TokenRequest.grantType: client_credentials added"]
    return []


def product_name_in_field_names(document: dict[str, Any]) -> list[str]:
    renamed: set[str] = set()

    def respell(node: dict[str, Any]) -> bool:
        properties, required = node.get("properties"), node.get("required")
        changed = False
        if isinstance(properties, dict) and any(_MISSPELT in name for name in properties):
            node["properties"] = {name.replace(_MISSPELT, "Runai"): v for name, v in properties.items()}
            renamed.update(name for name in properties if _MISSPELT in name)
            changed = True
        if isinstance(required, list) and any(_MISSPELT in str(name) for name in required):
            node["required"] = [str(name).replace(_MISSPELT, "Runai") for name in required]
            changed = True
        return changed

    count = rewrite(schemas_of(document), respell) + rewrite(document.get("paths"), respell)
    return (
        [f"{count} schema(s) spell {', '.join(sorted(renamed))} with the product name: `Runai`"]
        if count
        else []
    )


_MISSPELT = "Run:ai"


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


def contradictory_types(document: dict[str, Any]) -> list[str]:
    schemas = schemas_of(document)
    fixed: list[str] = []

    def part_types(node: dict[str, Any]) -> set[str]:
        found = set()
        for part in node.get("allOf") or []:
            while isinstance(part, dict) and "$ref" in part:
                part = schemas.get(str(part["$ref"]).removeprefix(_SCHEMAS), {})
            if isinstance(part, dict) and isinstance(part.get("type"), str):
                found.add(part["type"])
        return found

    def drop_outer_type(node: dict[str, Any]) -> bool:
        inner = part_types(node) if isinstance(node.get("allOf"), list) else set()
        if isinstance(node.get("type"), str) and inner and node["type"] not in inner:
            fixed.append(f"{node['type']} → {'/'.join(sorted(inner))}")
            del node["type"]
            return True
        return False

    count = rewrite(document, drop_outer_type)
    return (
        [f"{count} schema(s) typed against their own allOf parts ({', '.join(fixed)}): the parts' type kept"]
        if count
        else []
    )


def merge_compositions(document: dict[str, Any]) -> list[str]:
    schemas = schemas_of(document)
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
        elif key == "type" and key in target and target[key] != value:
            raise ValueError(f"allOf parts disagree about the type: {target[key]!r} vs {value!r}")
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
    schemas = schemas_of(document)
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
    count = sum(_drop_examples(schema) for schema in schemas_of(document).values())
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

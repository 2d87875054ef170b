"""The contract a run checks: our bundled spec or an official Run:ai document, cut down to the trainings API
and the read look-ups real clients make around it.

The official documents are published for code generators, not for fuzzers, so a few in-memory fix-ups make
them usable; every fix-up is recorded on the `Contract` and shown in the report, never applied silently.
"""

from __future__ import annotations

import copy
import gzip
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from contracts import limits
from mockserver.specs import TRAININGS_SPEC, spec_file

TOKEN_OPERATION = "grant_token"
CREATE_OPERATION = "create_training1"
GET_OPERATION = "get_training"
DELETE_OPERATION = "delete_training"
SUSPEND_OPERATION = "suspend_training"
RESUME_OPERATION = "resume_training"
# The workloads views of the same trainings (issue: real clients list and count them).
WORKLOAD_OPERATION = "get_workload"
WORKLOADS_OPERATION = "get_workloads"
COUNT_OPERATION = "count_workloads"
VIEW_OPERATIONS = (WORKLOAD_OPERATION, WORKLOADS_OPERATION, COUNT_OPERATION)
TRAININGS_OPERATIONS = (
    TOKEN_OPERATION,
    CREATE_OPERATION,
    GET_OPERATION,
    DELETE_OPERATION,
    SUSPEND_OPERATION,
    RESUME_OPERATION,
)
# The read look-ups real clients make around the trainings (organisation and workloads views). A run fuzzes
# those its document declares; a document without them is still a trainings contract. The node-pool list
# is named differently in each version (2.18: getNodePools under /v1/k8s; latest: get_nodepools).
LOOKUP_OPERATIONS = (
    "get_clusters",
    "get_cluster_by_uuid",
    "get_projects",
    "get_project",
    "get_departments",
    "get_department",
    "getNodePools",
    "get_nodepools",
    WORKLOADS_OPERATION,
    COUNT_OPERATION,
    WORKLOAD_OPERATION,
    "get_workload_events",
    "get_workload_history",
    "get_workload_pods",
)
FUZZED_OPERATIONS = TRAININGS_OPERATIONS + LOOKUP_OPERATIONS
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


class ContractError(Exception):
    """The spec cannot be used: unreadable, not OpenAPI 3, or without the trainings operations."""


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    statuses: tuple[int, ...]
    secured: bool

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def success_status(self) -> int:
        return next(status for status in self.statuses if 200 <= status < 300)


@dataclass(frozen=True)
class Contract:
    source: str
    title: str
    version: str
    document: dict[str, Any]
    operations: dict[str, Operation]
    fixups: tuple[str, ...]
    # Every operationId the source document declares, also those left out of the fuzzed contract: the
    # look-ups (workloads, projects) that semantic scenarios may use where the backend documents them.
    offered: frozenset[str] = frozenset()

    def operation(self, operation_id: str) -> Operation:
        return self.operations[operation_id]

    @property
    def secured_operations(self) -> list[Operation]:
        return [op for op in self.operations.values() if op.secured]


def default_spec() -> Path:
    return spec_file(TRAININGS_SPEC)


def load_contract(source: str | None = None) -> Contract:
    """Read our contract (default), or a path or URL to an OpenAPI 3 document with the trainings operations."""
    location = source or str(default_spec())
    document = _parse(_read(location), location)
    # The bundled contract is named, not located: where the package is installed must not show in reports.
    return prepare(document, source or f"{TRAININGS_SPEC} (bundled)")


def prepare(document: dict[str, Any], location: str) -> Contract:
    """Cut `document` down to the trainings operations and apply the fix-ups that make it fuzzable."""
    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3."):
        raise ContractError(f"{location}: not an OpenAPI 3 document")
    document = copy.deepcopy(document)
    offered = frozenset(str(op.get("operationId")) for _, _, op in _operation_items(document))
    fixups: list[str] = []
    info = document.setdefault("info", {})
    if not isinstance(info.get("version"), str):
        # Schemathesis and its reports expect a string; the official 2.18 file has the number 2.18.
        fixups.append(
            f"info.version {info.get('version')!r} is not a string: read as {str(info.get('version'))!r}"
        )
        info["version"] = str(info.get("version"))
    fixups.extend(_keep_trainings_paths(document))
    _drop_unreferenced_components(document)
    fixups.extend(_exempt_token_operation(document))
    fixups.extend(_document_malformed_query_answers(document))
    fixups.extend(_department_ids_as_used(document))
    fixups.extend(_type_untyped_objects(document))
    fixups.extend(_null_in_nullable_enums(document))
    operations = _operations(document)
    missing = [op_id for op_id in TRAININGS_OPERATIONS if op_id not in operations]
    if missing:
        raise ContractError(f"{location}: lacks the trainings operation(s) {', '.join(missing)}")
    return Contract(
        source=location,
        title=str(info.get("title", "")),
        version=info["version"],
        document=document,
        operations=operations,
        fixups=tuple(fixups),
        offered=offered,
    )


def _read(location: str) -> str:
    if location.startswith(("http://", "https://")):
        try:
            response = limits.request(None, "GET", location, timeout=30, follow_redirects=True)
            response.raise_for_status()
        except httpx.HTTPError as error:
            raise ContractError(f"{location}: cannot be fetched: {error}") from error
        return response.text
    try:
        path = Path(location)
        if path.suffix == ".gz":
            return gzip.decompress(path.read_bytes()).decode("utf-8")
        return path.read_text(encoding="utf-8")
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise ContractError(
            f"{location}: cannot be read: {getattr(error, 'strerror', None) or error}"
        ) from error


def _parse(text: str, location: str) -> dict[str, Any]:
    try:
        document: Any = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise ContractError(f"{location}: neither JSON nor YAML: {error}") from error
    if not isinstance(document, dict):
        raise ContractError(f"{location}: not an OpenAPI 3 document")
    return document


def _operation_items(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in (document.get("paths") or {}).items():
        for method, operation in (item or {}).items():
            if method in _METHODS and isinstance(operation, dict):
                yield path, method, operation


def _keep_trainings_paths(document: dict[str, Any]) -> list[str]:
    kept: dict[str, dict[str, Any]] = {}
    dropped = 0
    deprecated = []
    for path, method, operation in _operation_items(document):
        operation_id = operation.get("operationId")
        if operation_id in LOOKUP_OPERATIONS and operation.get("deprecated") is True:
            # A look-up the document itself replaces (latest: the /v1/k8s node-pool list) is not held
            # against a backend that serves only its replacement.
            deprecated.append(str(operation_id))
        elif operation_id in FUZZED_OPERATIONS:
            shared = {k: v for k, v in document["paths"][path].items() if k not in _METHODS}
            kept.setdefault(path, shared)[method] = operation
            continue
        dropped += 1
    document["paths"] = kept
    if not dropped:
        return []
    fixups = [
        f"{dropped} operation(s) outside the trainings API, its look-ups and the token endpoint were left out"
        + (f" (deprecated look-ups among them: {', '.join(deprecated)})" if deprecated else "")
    ]
    unlinked = _drop_links_to_missing_operations(document)
    if unlinked:
        fixups.append(f"{unlinked} link(s) to operations left out were removed with them")
    return fixups


def _drop_unreferenced_components(document: dict[str, Any]) -> None:
    """Components only the operations left out used: the fix-ups below then touch (and report) only
    what the run checks."""
    components = document.get("components")
    if not isinstance(components, dict):
        return
    used: set[str] = set()
    frontier: list[Any] = [document.get("paths"), document.get("security")]
    while frontier:
        node = frontier.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/") and ref not in used:
                used.add(ref)
                kind, _, name = ref[len("#/components/") :].partition("/")
                frontier.append((components.get(kind) or {}).get(name))
            frontier.extend(node.values())
        elif isinstance(node, list):
            frontier.extend(node)
    for kind, items in components.items():
        if isinstance(items, dict) and kind != "securitySchemes":
            for name in [name for name in items if f"#/components/{kind}/{name}" not in used]:
                del items[name]


def _drop_links_to_missing_operations(document: dict[str, Any]) -> int:
    """Links whose target was cut away would make Schemathesis refuse the whole stateful phase."""
    present = {operation.get("operationId") for _, _, operation in _operation_items(document)}
    removed = 0
    for _, _, operation in _operation_items(document):
        for response in (operation.get("responses") or {}).values():
            links = response.get("links") if isinstance(response, dict) else None
            if not isinstance(links, dict):
                continue
            dangling = [
                name
                for name, link in links.items()
                if isinstance(link, dict) and "operationId" in link and link["operationId"] not in present
            ]
            for name in dangling:
                del links[name]
                removed += 1
    return removed


def _exempt_token_operation(document: dict[str, Any]) -> list[str]:
    for _, _, operation in _operation_items(document):
        if operation.get("operationId") == TOKEN_OPERATION and "security" not in operation:
            # The token endpoint cannot demand the token it hands out; the official documents inherit the
            # global bearer requirement here only because they never override it.
            operation["security"] = []
            return ["grant_token inherits the global bearer requirement: treated as unauthenticated"]
    return []


def _document_malformed_query_answers(document: dict[str, Any]) -> list[str]:
    """Give a 400 to the operations that take query parameters but document no 400 (nor a default).

    The fuzzer sends malformed queries (`sortOrder=AAA`, a limit of -1) and any backend refuses them with
    400; the official documents declare that answer on the org-unit lists but not on the workloads lists
    or the cluster reads, so every backend would be flagged for refusing what it must refuse. The answer
    added is the one the document itself gives its other malformed queries.
    """
    existing = next(
        (
            operation["responses"]["400"]
            for _, _, operation in _operation_items(document)
            if "400" in (operation.get("responses") or {})
        ),
        {"description": "The query is malformed."},
    )
    added = []
    for _, method, operation in _operation_items(document):
        responses = operation.get("responses") or {}
        queried = any(
            isinstance(parameter, dict) and _parameter(document, parameter).get("in") == "query"
            for parameter in operation.get("parameters", [])
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


def _parameter(document: dict[str, Any], parameter: dict[str, Any]) -> dict[str, Any]:
    ref = parameter.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/parameters/"):
        found = (document.get("components", {}).get("parameters") or {}).get(ref.rsplit("/", 1)[1])
        return found if isinstance(found, dict) else {}
    return parameter


def _department_ids_as_used(document: dict[str, Any]) -> list[str]:
    """Drop `format: uuid` from department ids where the document contradicts itself about them.

    2.18's department list and its parent/child links give a department's `id` the uuid format, while the
    same document's department read (`Department.id`), the department path parameter, the trainings'
    `departmentId` and every example use ids such as "2" (the latest document dropped the format from its
    department list). A backend whose departments are numbered must not be flagged for it.
    """
    schemas = document.get("components", {}).get("schemas") or {}
    dropped = 0
    for name, schema in schemas.items():
        if name.startswith("Department"):
            dropped += _rewrite(schema, _drop_uuid_format_of_id)
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


def _rewrite(node: Any, rewrite: Callable[[dict[str, Any]], bool]) -> int:
    """Apply `rewrite` to every mapping below `node`; returns how many it changed."""
    if isinstance(node, dict):
        return int(rewrite(node)) + sum(_rewrite(value, rewrite) for value in node.values())
    if isinstance(node, list):
        return sum(_rewrite(value, rewrite) for value in node)
    return 0


def _add_object_type(schema: dict[str, Any]) -> bool:
    if ("properties" in schema or "required" in schema) and "type" not in schema and "$ref" not in schema:
        schema["type"] = "object"
        return True
    return False


def _add_null_to_enum(schema: dict[str, Any]) -> bool:
    enum = schema.get("enum")
    if schema.get("nullable") is True and isinstance(enum, list) and None not in enum:
        enum.append(None)
        return True
    return False


def _type_untyped_objects(document: dict[str, Any]) -> list[str]:
    """Give `type: object` to schemas that declare properties but no type.

    Without it a bare number or string satisfies e.g. the official TrainingCreationRequest (an allOf of
    type-less property lists), so the fuzzer would call `5` a valid create body and flag every backend
    that rejects it.
    """
    count = _rewrite(document.get("components", {}).get("schemas", {}), _add_object_type)
    return [f"{count} schema(s) declare properties without `type: object`: typed as objects"] if count else []


def _null_in_nullable_enums(document: dict[str, Any]) -> list[str]:
    """Add `null` to the enum of every `nullable: true` schema that lists values.

    OpenAPI 3.0.3 says an enum restricts a nullable value too, so `null` is valid only when listed; the
    Run:ai documents (and ours) mark optional enums nullable without listing it, and Schemathesis then
    calls a null a schema violation that every lenient backend "accepts".
    """
    count = _rewrite(document, _add_null_to_enum)
    return (
        [f"{count} nullable enum(s) do not list null: null added, as `nullable: true` intends"]
        if count
        else []
    )


def _operations(document: dict[str, Any]) -> dict[str, Operation]:
    global_security = document.get("security") or []
    result = {}
    for path, method, operation in _operation_items(document):
        statuses = tuple(sorted(int(code) for code in operation.get("responses", {}) if str(code).isdigit()))
        if not any(200 <= status < 300 for status in statuses):
            raise ContractError(f"{method.upper()} {path} declares no 2xx response")
        security = operation.get("security", global_security)
        result[operation["operationId"]] = Operation(
            operation_id=operation["operationId"],
            method=method.upper(),
            path=path,
            statuses=statuses,
            secured=any(requirement for requirement in security),
        )
    return result

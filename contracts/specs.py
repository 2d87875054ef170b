"""The contract a run checks: our bundled spec or an official Run:ai document, cut down to the workload kinds
it declares (trainings required; workspaces, distributed trainings, inferences where present) and the read
look-ups real clients make around them.

The official documents are published for code generators, not for fuzzers, so a few in-memory fix-ups make
them usable (`contracts.fixups.READING`, each with its reason); every fix-up is recorded on the `Contract` and
shown in the report, never applied silently.
"""

from __future__ import annotations

import copy
import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from contracts import limits
from contracts.fixups import METHODS, READING, TOKEN_OPERATION, apply, operation_items
from mockserver.specs import TRAININGS_SPEC, load_spec, served_contract, spec_file

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


@dataclass(frozen=True)
class Kind:
    """A workload kind's operations in the official documents, and the collection its workloads live in
    (`/api/v1/workloads/<collection>`): cleanup deletes a journalled workload through its kind's path."""

    collection: str
    create: str
    get: str
    delete: str
    suspend: str | None = None
    resume: str | None = None
    update: str | None = None

    @property
    def operation_ids(self) -> tuple[str, ...]:
        named = (self.create, self.get, self.delete, self.suspend, self.resume, self.update)
        return tuple(op for op in named if op is not None)


TRAININGS = Kind(
    "trainings", CREATE_OPERATION, GET_OPERATION, DELETE_OPERATION, SUSPEND_OPERATION, RESUME_OPERATION
)
WORKSPACES = Kind(
    "workspaces",
    "create_workspace1",
    "get_workspace",
    "delete_workspace",
    "suspend_workspace",
    "resume_workspace",
)
DISTRIBUTED = Kind(
    "distributed",
    "create_distributed",
    "get_distributed",
    "delete_distributed",
    "suspend_distributed",
    "resume_distributed",
)
INFERENCES = Kind(
    "inferences", "create_inference1", "get_inference", "delete_inference", update="update_inference_spec"
)
# Every kind a run may fuzz: a document-driven run checks the operations of those its contract declares
# (trainings are required; a version without, say, distributed suspend simply has none to fuzz).
KINDS = (TRAININGS, WORKSPACES, DISTRIBUTED, INFERENCES)
KIND_BY_COLLECTION = {kind.collection: kind for kind in KINDS}
CREATE_OPERATIONS = {kind.create: kind for kind in KINDS}
DELETE_OPERATIONS = {kind.delete: kind for kind in KINDS}
KINDS_OPERATIONS = tuple(op for kind in KINDS for op in kind.operation_ids)
# The read look-ups real clients make around the trainings (organisation and workloads views). A run fuzzes
# those its document declares; a document without them is still a trainings contract. The node-pool list
# is named differently in each version (2.18: getNodePools under /v1/k8s; latest: get_nodepools).
LOOKUP_OPERATIONS = (
    "get_clusters",
    "get_cluster_by_uuid",
    "get_projects",
    "count_projects",
    "get_project",
    "get_departments",
    "count_departments",
    "get_department",
    "getNodePools",
    "get_nodepools",
    WORKLOADS_OPERATION,
    COUNT_OPERATION,
    WORKLOAD_OPERATION,
    "get_workload_events",
    "get_workload_history",
    "get_workload_pods",
    "list_pods",
    "count_pods",
)
FUZZED_OPERATIONS = (TOKEN_OPERATION, *KINDS_OPERATIONS, *LOOKUP_OPERATIONS)


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


def load_contract(source: str | None = None, api: str | None = None) -> Contract:
    """Read our contract (default: 2.18's, or the `api` version's), or a path or URL to an OpenAPI 3 document
    with the trainings operations."""
    bundled = served_contract(api) if api else TRAININGS_SPEC
    if source is None:
        # A fresh copy of the file the fake serves, parsed once per process (a test session runs dozens).
        # The bundled contract is named, not located: where the package is installed must not show in reports.
        return _prepared(load_spec(bundled), f"{bundled} (bundled)")
    return _prepared(read_document(source), source)


def prepare(document: dict[str, Any], location: str) -> Contract:
    """Cut `document` down to the trainings operations and apply the fix-ups that make it fuzzable
    (`document` itself is left as it is)."""
    return _prepared(copy.deepcopy(document), location)


def _prepared(document: dict[str, Any], location: str) -> Contract:
    """`prepare` on a document of the caller's own, changed in place."""
    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3."):
        raise ContractError(f"{location}: not an OpenAPI 3 document")
    offered = frozenset(str(op.get("operationId")) for _, _, op in operation_items(document))
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
    fixups.extend(apply(READING, document))
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


def read_document(location: str) -> dict[str, Any]:
    """A JSON or YAML document (gzipped or not) from a path or an http(s) URL."""
    return _parse(_read(location), location)


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


# libyaml's loader where the install has it: a contract of 250 kB parses in milliseconds, not a second.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse(text: str, location: str) -> dict[str, Any]:
    try:
        document: Any = (
            json.loads(text) if text.lstrip().startswith("{") else yaml.load(text, Loader=_YAML_LOADER)
        )
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise ContractError(f"{location}: neither JSON nor YAML: {error}") from error
    if not isinstance(document, dict):
        raise ContractError(f"{location}: not an OpenAPI 3 document")
    return document


def _keep_trainings_paths(document: dict[str, Any]) -> list[str]:
    kept: dict[str, dict[str, Any]] = {}
    dropped = 0
    deprecated = []
    for path, method, operation in operation_items(document):
        operation_id = operation.get("operationId")
        if operation_id in LOOKUP_OPERATIONS and operation.get("deprecated") is True:
            # A look-up the document itself replaces (latest: the /v1/k8s node-pool list) is not held
            # against a backend that serves only its replacement.
            deprecated.append(str(operation_id))
        elif operation_id in FUZZED_OPERATIONS:
            shared = {k: v for k, v in document["paths"][path].items() if k not in METHODS}
            kept.setdefault(path, shared)[method] = operation
            continue
        dropped += 1
    document["paths"] = kept
    if not dropped:
        return []
    fixups = [
        f"{dropped} operation(s) outside the workload kinds, their look-ups and the token endpoint were left out"
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
    present = {operation.get("operationId") for _, _, operation in operation_items(document)}
    removed = 0
    for _, _, operation in operation_items(document):
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


def _operations(document: dict[str, Any]) -> dict[str, Operation]:
    global_security = document.get("security") or []
    result = {}
    for path, method, operation in operation_items(document):
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

"""Compare two OpenAPI 3 documents operation by operation, as a client of each operation would feel it.

Operations are matched by method and path. Within one, the request body and the success answer are read
as field paths (`spec.compute.migProfile`, `workloads[].phase`) with their type, enum values and whether
they are required: references followed, allOf merged, oneOf/anyOf read as optional alternatives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contracts.diff.model import Change, ChangeKind, Comparison
from contracts.fixups import operation_items

_RECURSIVE = "(recursive)"


@dataclass
class Field:
    types: frozenset[str] = frozenset()
    enum: frozenset[str] = frozenset()
    required: bool = False
    seen: set[str] = field(default_factory=set)


def compare(old: dict[str, Any], new: dict[str, Any], old_name: str, new_name: str) -> Comparison:
    before, after = _operations(old), _operations(new)
    changes: list[Change] = []
    for key in sorted(before.keys() | after.keys(), key=lambda k: (k[1], k[0])):
        method, path = key
        if key not in after:
            op_id = str(before[key].get("operationId", ""))
            changes.append(
                Change(method, path, op_id, ChangeKind.OPERATION_REMOVED, "no longer in the document")
            )
        elif key not in before:
            op_id = str(after[key].get("operationId", ""))
            changes.append(Change(method, path, op_id, ChangeKind.OPERATION_ADDED, "new in the document"))
        else:
            changes.extend(_operation_changes(old, new, method, path, before[key], after[key]))
    return Comparison(old_name, new_name, tuple(changes))


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(method.upper(), path): op for path, method, op in operation_items(document)}


def _operation_changes(
    old: dict[str, Any],
    new: dict[str, Any],
    method: str,
    path: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> list[Change]:
    op_id = str(after.get("operationId") or before.get("operationId") or "")
    found: list[tuple[ChangeKind, str, bool]] = []
    if after.get("deprecated") and not before.get("deprecated"):
        found.append((ChangeKind.OPERATION_DEPRECATED, "marked deprecated", False))
    old_codes, new_codes = _codes(before), _codes(after)
    old_success, new_success = _success(old_codes), _success(new_codes)
    if old_success != new_success:
        found.append(
            (ChangeKind.SUCCESS_STATUS_CHANGED, f"{'/'.join(old_success)} → {'/'.join(new_success)}", False)
        )
    for code in sorted(new_codes - old_codes - set(new_success)):
        found.append((ChangeKind.STATUS_ADDED, code, False))
    for code in sorted(old_codes - new_codes - set(old_success)):
        found.append((ChangeKind.STATUS_REMOVED, code, False))
    found.extend(_parameter_changes(old, new, before, after))
    found.extend(_field_changes(_request_fields(old, before), _request_fields(new, after), request=True))
    found.extend(_field_changes(_answer_fields(old, before), _answer_fields(new, after), request=False))
    return [Change(method, path, op_id, kind, detail, required) for kind, detail, required in found]


def _codes(operation: dict[str, Any]) -> set[str]:
    return {str(code) for code in (operation.get("responses") or {})}


def _success(codes: set[str]) -> tuple[str, ...]:
    return tuple(sorted(code for code in codes if code.startswith("2")))


def _resolve(document: dict[str, Any], node: Any) -> Any:
    seen = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and seen < 50:
        kind, _, name = node["$ref"].removeprefix("#/components/").partition("/")
        node = (document.get("components", {}).get(kind) or {}).get(name, {})
        seen += 1
    return node


def _parameter_changes(
    old: dict[str, Any], new: dict[str, Any], before: dict[str, Any], after: dict[str, Any]
) -> list[tuple[ChangeKind, str, bool]]:
    def parameters(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
        found = (_resolve(document, p) for p in operation.get("parameters") or [])
        return {f"{p.get('in')} {p.get('name')}": p for p in found if isinstance(p, dict)}

    was, now = parameters(old, before), parameters(new, after)
    found: list[tuple[ChangeKind, str, bool]] = []
    for name in sorted(now.keys() - was.keys()):
        required = bool(now[name].get("required"))
        found.append((ChangeKind.PARAMETER_ADDED, name + (" (required)" if required else ""), required))
    for name in sorted(was.keys() - now.keys()):
        found.append((ChangeKind.PARAMETER_REMOVED, name, False))
    for name in sorted(was.keys() & now.keys()):
        old_fields = _fields(old, was[name].get("schema") or {}, name)
        new_fields = _fields(new, now[name].get("schema") or {}, name)
        found.extend(_field_changes(old_fields, new_fields, request=True, presence=False))
    return found


def _request_fields(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Field]:
    body = _resolve(document, operation.get("requestBody") or {})
    schema = ((body.get("content") or {}).get("application/json") or {}).get("schema")
    return _fields(document, schema, "") if schema else {}


def _answer_fields(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Field]:
    responses = operation.get("responses") or {}
    success = _success({str(code) for code in responses})
    if not success:
        return {}
    answer = _resolve(document, responses.get(success[0]) or responses.get(int(success[0])) or {})
    schema = ((answer.get("content") or {}).get("application/json") or {}).get("schema")
    return _fields(document, schema, "") if schema else {}


def _fields(document: dict[str, Any], schema: Any, root: str) -> dict[str, Field]:
    out: dict[str, Field] = {}
    _walk(document, schema, root, out, (), required=True)
    return out


def _walk(
    document: dict[str, Any],
    node: Any,
    path: str,
    out: dict[str, Field],
    stack: tuple[str, ...],
    required: bool,
) -> None:
    if isinstance(node, dict) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if ref in stack:
            out.setdefault(path or "(body)", Field()).seen.add(_RECURSIVE)
            return
        stack = (*stack, ref)
    node = _resolve(document, node)
    if not isinstance(node, dict):
        return
    entry = out.setdefault(path or "(body)", Field())
    entry.required = entry.required or required
    if isinstance(node.get("type"), str):
        entry.types = entry.types | {node["type"]}
    if isinstance(node.get("enum"), list):
        entry.enum = entry.enum | {str(v) for v in node["enum"] if v is not None}
    for part in node.get("allOf") or []:
        _walk(document, part, path, out, stack, required)
    for keyword in ("oneOf", "anyOf"):
        for part in node.get(keyword) or []:
            _walk(document, part, path, out, stack, required=False)
    names = set(node.get("required") or []) if isinstance(node.get("required"), list) else set()
    for name, child in (node.get("properties") or {}).items():
        _walk(document, child, f"{path}.{name}".lstrip("."), out, stack, required=name in names)
    if isinstance(node.get("items"), dict):
        _walk(document, node["items"], f"{path}[]", out, stack, required=False)


def _field_changes(
    was: dict[str, Field], now: dict[str, Field], request: bool, presence: bool = True
) -> list[tuple[ChangeKind, str, bool]]:
    kinds = _REQUEST if request else _RESPONSE
    found: list[tuple[ChangeKind, str, bool]] = []
    if presence:
        for name in _tops(now.keys() - was.keys()):
            note = " (required)" if request and now[name].required and _parent_present(name, was) else ""
            found.append((kinds["added"], name + note, False))
            if note:
                found.append((ChangeKind.REQUEST_FIELD_REQUIRED, name, True))
        found.extend((kinds["removed"], name, False) for name in _tops(was.keys() - now.keys()))
    for name in sorted(was.keys() & now.keys()):
        before, after = was[name], now[name]
        if before.types and after.types and before.types != after.types:
            found.append((kinds["type"], f"{name}: {_names(before.types)} → {_names(after.types)}", False))
        if before.enum and after.enum:
            if after.enum - before.enum:
                found.append((kinds["enum added"], f"{name}: {_names(after.enum - before.enum)}", False))
            if before.enum - after.enum:
                found.append((kinds["enum removed"], f"{name}: {_names(before.enum - after.enum)}", False))
        if request and presence and name != "(body)":
            if after.required and not before.required:
                found.append((ChangeKind.REQUEST_FIELD_REQUIRED, name, True))
            elif before.required and not after.required:
                found.append((ChangeKind.REQUEST_FIELD_OPTIONAL, name, False))
    return found


def _tops(names: set[str]) -> list[str]:
    """The fields of `names` whose enclosing field is not itself among them: a new object, not its parts."""

    def parents(name: str) -> list[str]:
        cut = [i for i, c in enumerate(name) if c in ".["]
        return [name[:i] for i in cut]

    return sorted(n for n in names if n != "(body)" and not any(p in names for p in parents(n)))


def _parent_present(name: str, fields: dict[str, Field]) -> bool:
    """A field newly required inside an object the client already sent; not inside a new optional one."""
    parent = name.rsplit(".", 1)[0] if "." in name else "(body)"
    return parent in fields or parent == "(body)"


def _names(values: frozenset[str]) -> str:
    return ", ".join(f"`{v}`" for v in sorted(values))


_REQUEST = {
    "added": ChangeKind.REQUEST_FIELD_ADDED,
    "removed": ChangeKind.REQUEST_FIELD_REMOVED,
    "type": ChangeKind.REQUEST_TYPE_CHANGED,
    "enum added": ChangeKind.REQUEST_ENUM_ADDED,
    "enum removed": ChangeKind.REQUEST_ENUM_REMOVED,
}
_RESPONSE = {
    "added": ChangeKind.RESPONSE_FIELD_ADDED,
    "removed": ChangeKind.RESPONSE_FIELD_REMOVED,
    "type": ChangeKind.RESPONSE_TYPE_CHANGED,
    "enum added": ChangeKind.RESPONSE_ENUM_ADDED,
    "enum removed": ChangeKind.RESPONSE_ENUM_REMOVED,
}

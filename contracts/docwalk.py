"""Walking an OpenAPI document: its operations, every mapping below a node, parameters and schemas."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


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


def schemas(document: dict[str, Any]) -> dict[str, Any]:
    found = document.get("components", {}).get("schemas")
    return found if isinstance(found, dict) else {}

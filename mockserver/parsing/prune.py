"""A submitted spec cut down to what the API version defines, before it is stored.

The contract's workload specs do not forbid other keys (no `additionalProperties: false`), so a create
with unknown keys is accepted, as Run:ai accepts it — and, as Kubernetes prunes unknown fields of a
structural schema, the fake keeps only the fields the version's create operation defines (its path is
named by the kind's parsing module; the document is the version row's). The answer echoes the pruned
spec. This bounds what a workload holds: a 1 MiB body of unknown keys stores nothing of them.

Objects with `properties` keep those keys (recursively); `additionalProperties` with a schema keeps every
key and prunes each value by that schema; `additionalProperties: true` and schemaless objects keep all.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

from mockserver.specs import load_spec

MAX_SHARED = 1024
_alike: dict[str, dict[str, Any]] = {}


@functools.cache
def _spec_schema(
    document: str, create_path: str, field: str = "spec"
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The schema of `field` (`spec`, or a distributed training's `masterSpec`) in the create body of
    `create_path`, and the document's schemas (None: the document has no such operation, and nothing is
    pruned)."""
    spec = load_spec(document)
    schemas: dict[str, Any] = spec.get("components", {}).get("schemas", {})
    try:
        body = spec["paths"][create_path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    except (KeyError, TypeError):
        return None
    found = _resolve(body, schemas).get("properties", {}).get(field)
    return (dict(found), schemas) if isinstance(found, Mapping) else None


def prune_spec(spec: Any, document: str, create_path: str, field: str = "spec") -> Any:
    """`spec` as the version's create operation at `create_path` defines it (anything not a dict is
    returned as is). Alike specs come back as one shared object (clients create the same spec over and
    over); nobody changes a stored spec, the answers only render it."""
    found = _spec_schema(document, create_path, field)
    if found is None or not isinstance(spec, dict):
        return spec
    pruned = _prune(spec, found[0], found[1], 0)
    try:
        key = json.dumps(pruned, sort_keys=True)
    except (TypeError, ValueError):
        return pruned
    shared = _alike.get(key)
    if shared is None:
        if len(_alike) >= MAX_SHARED:
            _alike.clear()
        shared = _alike[key] = pruned
    return shared


def _resolve(schema: Mapping[str, Any], schemas: Mapping[str, Any]) -> Mapping[str, Any]:
    """The schema behind a `$ref`, with `allOf` parts' properties merged."""
    while "$ref" in schema:
        schema = schemas.get(str(schema["$ref"]).rsplit("/", 1)[-1], {})
    if "allOf" in schema:
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        properties = dict(merged.get("properties", {}))
        for part in schema["allOf"]:
            resolved = _resolve(part, schemas)
            properties.update(resolved.get("properties", {}))
            for key in ("additionalProperties", "items", "type"):
                if key in resolved and key not in merged:
                    merged[key] = resolved[key]
        if properties:
            merged["properties"] = properties
        return merged
    return schema


def _prune(value: Any, schema: Mapping[str, Any], schemas: Mapping[str, Any], depth: int) -> Any:
    if depth > 32:  # the documents nest far less; a cycle of $refs stops here
        return value
    schema = _resolve(schema, schemas)
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        return [_prune(item, schema["items"], schemas, depth + 1) for item in value]
    if not isinstance(value, dict):
        return value
    properties = schema.get("properties")
    extra = schema.get("additionalProperties")
    if not isinstance(properties, Mapping):
        if isinstance(extra, Mapping):
            return {k: _prune(v, extra, schemas, depth + 1) for k, v in value.items()}
        return value  # a free-form object: the document says nothing of its keys
    kept = {k: _prune(v, properties[k], schemas, depth + 1) for k, v in value.items() if k in properties}
    if extra is True:
        kept.update({k: v for k, v in value.items() if k not in properties})
    elif isinstance(extra, Mapping):
        kept.update(
            {k: _prune(v, extra, schemas, depth + 1) for k, v in value.items() if k not in properties}
        )
    return kept

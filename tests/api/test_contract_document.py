"""Our contracts against the official 2.18 and latest documents: same operations, codes and fields;
examples valid."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from jsonschema import Draft4Validator

from mockserver.specs import CONTROL_SPEC, spec_file
from mockserver.validation import install_formats
from tests.conftest import SHARED_REFERENCE

VERSIONS = {
    "2.18": ("runai-2.18-openapi.json", "trainings-2.18.yaml", "SubmissionError"),
    "latest": ("runai-latest-openapi.json", "trainings-latest.yaml", "SubmissionErrorV2"),
}
OURS = {version: yaml.safe_load(spec_file(ours).read_text()) for version, (_, ours, _) in VERSIONS.items()}
CONSTRAINTS = (
    "type",
    "format",
    "enum",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "nullable",
    "default",
)


def _resolve(document: dict, node: dict) -> dict:
    while "$ref" in node:
        node = document["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def flatten(document: dict, node: dict, path: str = "", out: dict | None = None) -> dict[str, dict[str, Any]]:
    """Every field path of a schema with its constraints, allOf merged, refs followed."""
    out = {} if out is None else out
    node = _resolve(document, node)
    parts = [node] + [_resolve(document, p) for p in node.get("allOf", [])]
    facts = out.setdefault(path or "(root)", {})
    for part in parts:
        if "allOf" in part and part is not node:
            flatten(document, part, path, out)
            continue
        for key in CONSTRAINTS:
            if key in part and key not in facts:
                facts[key] = [v for v in part[key] if v is not None] if key == "enum" else part[key]
        for name in part.get("required", []):
            out.setdefault(f"{path}.{name}".lstrip("."), {})["required"] = True
        for name, child in part.get("properties", {}).items():
            flatten(document, child, f"{path}.{name}".lstrip("."), out)
        if "items" in part:
            flatten(document, part["items"], f"{path}[]", out)
    return out


def official(version: str) -> dict:
    path = SHARED_REFERENCE / VERSIONS[version][0]
    if not path.is_file():
        pytest.skip(f"the official document is not beside the checkout ({path})")
    return json.loads(path.read_text())


def _operations(document: dict) -> dict[tuple[str, str], dict]:
    return {
        (path, method): op
        for path, item in document["paths"].items()
        for method, op in item.items()
        if path == "/api/v1/token" or path.startswith("/api/v1/workloads/trainings")
    }


@pytest.mark.parametrize("version", VERSIONS)
def test_same_operations_and_status_codes(version):
    ours, theirs = _operations(OURS[version]), _operations(official(version))
    assert set(ours) == set(theirs)
    for key, op in ours.items():
        assert op["operationId"] == theirs[key]["operationId"], key
        assert set(op["responses"]) == set(theirs[key]["responses"]), key


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    "schema", ["TrainingCreationRequest", "Training1", "Error", "rejection", "TokenResponse"]
)
def test_same_fields_types_and_constraints(version, schema):
    schema = VERSIONS[version][2] if schema == "rejection" else schema
    ours = flatten(OURS[version], {"$ref": f"#/components/schemas/{schema}"})
    theirs = flatten(official(version), {"$ref": f"#/components/schemas/{schema}"})
    # The official document leaves the top-level `type: object` out of its allOf compositions.
    ours["(root)"].pop("type", None)
    theirs["(root)"].pop("type", None)
    ours["(root)"].pop("nullable", None)
    theirs["(root)"].pop("nullable", None)
    assert ours == theirs


def _as_json_schema(node: Any, document: dict) -> Any:
    """OpenAPI 3.0 `nullable` to JSON Schema, and component refs inlined, for validating examples."""
    if isinstance(node, list):
        return [_as_json_schema(n, document) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _as_json_schema(_resolve(document, node), document)
    converted = {
        k: _as_json_schema(v, document)
        for k, v in node.items()
        if k not in ("nullable", "example", "examples")
    }
    if node.get("nullable") and "type" in converted:
        converted["type"] = [converted["type"], "null"]
    return converted


def _examples(document: dict):
    for path, item in document["paths"].items():
        for method, op in item.items():
            media = [op.get("requestBody", {}).get("content", {})]
            media += [_resolve_response(document, r).get("content", {}) for r in op["responses"].values()]
            for content in media:
                for body in content.values():
                    values = [body["example"]] if "example" in body else []
                    values += [e["value"] for e in body.get("examples", {}).values()]
                    for value in values:
                        yield f"{method} {path}", body["schema"], value


def _resolve_response(document: dict, response: dict) -> dict:
    if "$ref" in response:
        return document["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    return response


@pytest.mark.parametrize("version", VERSIONS)
def test_every_example_validates_against_its_schema(version):
    install_formats()
    seen = 0
    for where, schema, value in _examples(OURS[version]):
        validator = Draft4Validator(
            _as_json_schema(schema, OURS[version]), format_checker=Draft4Validator.FORMAT_CHECKER
        )
        errors = [e.message for e in validator.iter_errors(value)]
        assert not errors, (where, errors)
        seen += 1
    assert seen >= 10


def test_control_contract_is_separate_from_the_api_paths():
    control = yaml.safe_load(spec_file(CONTROL_SPEC).read_text())
    assert control["servers"] == [{"url": "/api/mock/v1"}]
    assert not any(path.startswith("/api/v1") for path in control["paths"])

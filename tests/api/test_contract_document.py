"""Our contracts against the official 2.18 and latest documents: same operations, codes, parameters and
fields; examples valid. Every place where ours deliberately differs is listed below with the reason."""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest
import yaml
from jsonschema import Draft4Validator

from contracts import fixups
from mockserver.http.validation import install_formats
from mockserver.specs import CONTROL_SPEC, load_spec, read_official_document, served_contract, spec_file

VERSIONS = {
    **{v: (served_contract(v), "SubmissionError") for v in ("2.18", "2.19", "2.20", "2.21", "2.22", "2.23")},
    "latest": (served_contract("latest"), "SubmissionErrorV2"),
}
OURS = {version: load_spec(ours) for version, (ours, _) in VERSIONS.items()}
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


# The organisation and workloads reads the fake serves (issue 8), per version: (path, operationId).
READS = {
    "2.18": {
        ("/v1/k8s/clusters/{clusterId}/node-pools", "getNodePools"),
    },
    **{
        v: {("/api/v1/node-pools", "get_nodepools")}
        for v in ("2.19", "2.20", "2.21", "2.22", "2.23", "latest")
    },
}
COMMON_READS = {
    ("/api/v1/clusters", "get_clusters"),
    ("/api/v1/clusters/{clusterUuid}", "get_cluster_by_uuid"),
    ("/api/v1/org-unit/projects", "get_projects"),
    ("/api/v1/org-unit/projects/{projectId}", "get_project"),
    ("/api/v1/org-unit/departments", "get_departments"),
    ("/api/v1/org-unit/departments/{departmentId}", "get_department"),
    ("/api/v1/workloads", "get_workloads"),
    ("/api/v1/workloads/count", "count_workloads"),
    ("/api/v1/workloads/{workloadId}", "get_workload"),
    ("/api/v1/workloads/{workloadId}/events", "get_workload_events"),
    ("/api/v1/workloads/{workloadId}/history", "get_workload_history"),
    ("/api/v1/workloads/{workloadId}/pods", "get_workload_pods"),
}
# Answers we declare beyond the official documents, because the fake gives them and a client must expect
# them: 400 where a query parameter can be malformed (a filter, a limit out of range, an unknown verbosity;
# the official documents declare it for the org-unit lists but not for these), and 401 on the 2.18 node-pool
# list, which the official document covers only with `default`.
EXTRA_ANSWERS = {
    "get_clusters": {"400"},
    "get_cluster_by_uuid": {"400"},
    "get_workloads": {"400"},
    "count_workloads": {"400"},
    "get_workload_events": {"400"},
    "get_workload_history": {"400"},
    "get_workload_pods": {"400"},
    "getNodePools": {"401"},
}
# Field facts where ours deliberately differ, per (version, operationId): {field path: (ours, theirs)}. The
# declared fix-ups (contracts/fixups.py) are applied to the official side before comparing, so that they are
# not listed here: none remain.
DEVIATIONS: dict[tuple[str, str], dict[str, tuple[dict, dict]]] = {}


def _resolve(document: dict, node: dict) -> dict:
    while "$ref" in node:
        node = document["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def flatten(
    document: dict, node: dict, path: str = "", out: dict | None = None, seen: tuple[str, ...] = ()
) -> dict[str, dict[str, Any]]:
    """Every field path of a schema with its constraints, allOf merged, refs followed (a recursive
    schema, such as a project's parent's parent, is followed once and then named)."""
    out = {} if out is None else out
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        if name in seen:
            out.setdefault(path or "(root)", {})["recursive"] = name
            return out
        seen = (*seen, name)
    node = _resolve(document, node)
    parts = [node] + [_resolve(document, p) for p in node.get("allOf", [])]
    facts = out.setdefault(path or "(root)", {})
    for part in parts:
        if "allOf" in part and part is not node:
            flatten(document, part, path, out, seen)
            continue
        for key in CONSTRAINTS:
            if key in part and key not in facts:
                facts[key] = [v for v in part[key] if v is not None] if key == "enum" else part[key]
        for name in part.get("required", []):
            out.setdefault(f"{path}.{name}".lstrip("."), {})["required"] = True
        for name, child in part.get("properties", {}).items():
            flatten(document, child, f"{path}.{name}".lstrip("."), out, seen)
        if "items" in part:
            flatten(document, part["items"], f"{path}[]", out, seen)
    return out


@functools.cache  # read once per version and process: the tests here only read it
def official(version: str) -> dict:
    document = json.loads(read_official_document(version))
    # The declared fix-ups (contracts/fixups.py) that change what a field accepts are applied to the official
    # side too, so that like is compared with like: type-less objects typed, 2.18's department ids without
    # the uuid format, 2.21's `enforceRun:aiScheduler` spelt as 2.22 does, 2.19's `phaseReason` typed as
    # its allOf parts are.
    fixups.type_untyped_objects(document)
    fixups.department_ids_as_used(document)
    fixups.product_name_in_field_names(document)
    fixups.contradictory_types(document)
    return document


def _reads(version: str) -> set[tuple[str, str]]:
    return COMMON_READS | READS[version]


def _operations(document: dict, version: str) -> dict[tuple[str, str], dict]:
    reads = {path for path, _ in _reads(version)}
    return {
        (path, method): op
        for path, item in document["paths"].items()
        for method, op in item.items()
        if path == "/api/v1/token"
        or path.startswith("/api/v1/workloads/trainings")
        or (path in reads and method == "get")
    }


@pytest.mark.parametrize("version", VERSIONS)
def test_same_operations_and_status_codes(version):
    ours, theirs = _operations(OURS[version], version), _operations(official(version), version)
    assert set(ours) == set(theirs)
    for key, op in ours.items():
        assert op["operationId"] == theirs[key]["operationId"], key
        extra = EXTRA_ANSWERS.get(op["operationId"], set())
        assert set(op["responses"]) == set(theirs[key]["responses"]) | extra, key


def test_ours_serve_every_read_the_issue_names():
    for version in VERSIONS:
        served = {
            (p, op["operationId"]) for p, item in OURS[version]["paths"].items() for op in item.values()
        }
        assert _reads(version) <= served, version


def _parameters(document: dict, path: str) -> dict[str, dict[str, Any]]:
    item = document["paths"][path]
    params = item.get("parameters", []) + item["get"].get("parameters", [])
    out = {}
    for param in params:
        if "$ref" in param:
            param = document["components"]["parameters"][param["$ref"].rsplit("/", 1)[1]]
        facts = {k: param.get(k) for k in ("in", "style", "explode")}
        facts["required"] = bool(param.get("required"))
        facts["schema"] = flatten(document, param["schema"])
        out[param["name"]] = facts
    return out


@pytest.mark.parametrize("version", VERSIONS)
def test_reads_take_the_same_parameters(version):
    for path, _ in sorted(_reads(version)):
        assert _parameters(OURS[version], path) == _parameters(official(version), path), path


def _cut_recursion(ours: dict[str, dict[str, Any]], theirs: dict[str, dict[str, Any]]) -> None:
    """Connexion inlines every $ref when it serves the document, so ours cannot contain itself: where the
    official schema recurses (a parent's parent, a child's children), ours stops at a plain object."""
    for path, facts in list(theirs.items()):
        if "recursive" in facts:
            del theirs[path]
            if ours.get(path, {}).get("type") == "array":
                assert ours.pop(f"{path}[]") == {"type": "object"}, path
            assert ours.pop(path) in ({"type": "object"}, {"type": "array"}), path


def _cycle(document: dict, node: Any, stack: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    if isinstance(node, list):
        return next((c for c in (_cycle(document, n, stack) for n in node) if c), None)
    if not isinstance(node, dict):
        return None
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        if name in stack:
            return (*stack, name)
        return _cycle(document, document["components"]["schemas"][name], (*stack, name))
    return next((c for c in (_cycle(document, v, stack) for v in node.values()) if c), None)


@pytest.mark.parametrize("version", VERSIONS)
def test_no_schema_contains_itself(version):
    # Connexion inlines every $ref to serve /api/v1/openapi.json; a cycle would make that a 500.
    for name in OURS[version]["components"]["schemas"]:
        assert _cycle(OURS[version], {"$ref": f"#/components/schemas/{name}"}) is None, name


def _answer_schema(document: dict, path: str) -> dict:
    return document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]


@pytest.mark.parametrize("version", VERSIONS)
def test_reads_answer_the_same_fields_types_and_constraints(version):
    for path, operation in sorted(_reads(version)):
        ours = flatten(OURS[version], _answer_schema(OURS[version], path))
        theirs = flatten(official(version), _answer_schema(official(version), path))
        _cut_recursion(ours, theirs)
        for field, (our_facts, their_facts) in DEVIATIONS.get((version, operation), {}).items():
            assert (ours.pop(field), theirs.pop(field)) == (our_facts, their_facts), (path, field)
        # allOf compositions carry no top-level `type`/`nullable` in the official documents.
        for facts in (ours, theirs):
            facts["(root)"].pop("type", None)
            facts["(root)"].pop("nullable", None)
        assert ours == theirs, path


@pytest.mark.parametrize("version", VERSIONS)
def test_stateful_links_lead_from_create_to_the_workload_views(version):
    created = OURS[version]["paths"]["/api/v1/workloads/trainings"]["post"]["responses"]
    links = next(r["links"] for code, r in created.items() if code.startswith("2"))
    targets = {link["operationId"] for link in links.values()}
    assert {"get_workload", "get_workload_events", "get_workload_history", "get_workload_pods"} <= targets


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    "schema", ["TrainingCreationRequest", "Training1", "Error", "rejection", "TokenResponse"]
)
def test_same_fields_types_and_constraints(version, schema):
    schema = VERSIONS[version][1] if schema == "rejection" else schema
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
    assert seen >= 12


def test_control_contract_is_separate_from_the_api_paths():
    control = load_spec(CONTROL_SPEC)
    assert control["servers"] == [{"url": "/api/mock/v1"}]
    assert not any(path.startswith("/api/v1") for path in control["paths"])


@pytest.mark.parametrize("name", sorted(path.name for path in spec_file().parent.glob("*.yaml")))
def test_a_contract_read_through_the_json_cache_is_the_yaml_document(name: str) -> None:
    """load_spec keeps each file as JSON text after the first parse: nothing may change on the way (a key
    YAML reads as a number or a date would)."""
    parsed = yaml.load(spec_file(name).read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    assert load_spec(name) == parsed
    first = load_spec(name)
    first.clear()
    assert load_spec(name) == parsed  # a fresh object each time

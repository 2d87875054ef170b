"""The compiled body check (mockserver/http/schemacheck.py) says "valid" exactly when Connexion's validator does.

The fast path serves a create only when the compiled check accepts its body; anything else goes on to
Connexion. So the check must never accept what Connexion's `Draft4RequestValidator` (with the shared
format checker) refuses; it is held here to full agreement, on hand-picked bodies and on bodies generated
from each contract's own create schema (valid shapes, every value swapped for a wrong one, nulls, extra
fields, boundary numbers, formats, non-ASCII text).
"""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest
from connexion.json_schema import Draft4RequestValidator
from connexion.spec import Specification
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator

from mockserver.http.schemacheck import compile_check
from mockserver.http.validation import install_formats
from mockserver.specs import LATEST_SPEC, TRAININGS_SPEC, load_spec
from tests.conftest import CLUSTER_ID, corrected_seed_request, training

install_formats()
CHECKER = Draft4Validator.FORMAT_CHECKER
SETTINGS = settings(
    max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


def _create_schema(contract: str) -> dict[str, Any]:
    resolved = Specification.load(load_spec(contract))
    operation = resolved["paths"]["/api/v1/workloads/trainings"]["post"]
    schema: dict[str, Any] = operation["requestBody"]["content"]["application/json"]["schema"]
    return schema


SCHEMAS = {contract: _create_schema(contract) for contract in (TRAININGS_SPEC, LATEST_SPEC)}


class Both:
    """The compiled check and Connexion's validator of one schema."""

    def __init__(self, schema: dict[str, Any]) -> None:
        compiled = compile_check(schema, Draft4RequestValidator, CHECKER)
        assert compiled is not None, "the schema did not compile: the fast path would use jsonschema"
        self.compiled = compiled
        self.reference = Draft4RequestValidator(schema, format_checker=CHECKER)

    def agree(self, body: Any) -> None:
        expected = self.reference.is_valid(body)
        assert self.compiled(body) is expected, (body, [e.message for e in self.reference.iter_errors(body)])


BOTH = {contract: Both(schema) for contract, schema in SCHEMAS.items()}
VALID_BODIES = [training("gen-a"), corrected_seed_request()]


# --- hand-picked bodies ----------------------------------------------------------------------------


def _variants() -> list[Any]:
    base = training("check-a")
    bodies: list[Any] = [base, corrected_seed_request(), {}, [], None, "x", 1, True]
    for key, values in {
        "name": [None, 1, "", "x" * 300, "ünïcødé", "\u0000", True],
        "projectId": [None, 1, "", "1"],
        "clusterId": [None, "", "not-a-uuid", CLUSTER_ID.upper(), CLUSTER_ID + " ", 7, [CLUSTER_ID]],
        "useGivenNameAsPrefix": [None, 0, 1, "true", True, False],
        "spec": [None, {}, [], "spec", 1],
        "unknownTopLevel": [{"deep": [[[[{"x": 1}]]]]}, None],
    }.items():
        for value in values:
            bodies.append({**base, key: value})
    spec_values: dict[str, list[Any]] = {
        "image": [None, "", 1, "ü" * 5, ["python"]],
        "parallelism": [None, 0, 1, -1, 1.0, 1.5, True, 2**31 - 1, 2**31, -(2**31) - 1, 2**63, 10**30, "1"],
        "completions": [None, 1, 2**31, 1e10, -0.0],
        "backoffLimit": [None, 0, -5, 2**31, False],
        "autoDeletionTimeAfterCompletionSeconds": [None, 2**63 - 1, 2**63, 0.5],
        "priorityClass": [None, "", "train", "TRAIN", 3],
        "preemptibility": [None, "preemptible", "non-preemptible", "Preemptible", "", 1],
        "nodePools": [None, [], ["a"], [1], [None], "a", [["a"]]],
        "annotations": [None, [], [{"name": "a", "value": "b"}], [{"name": 1}], [None], [{"exclude": "no"}]],
        "labels": [None, [{"name": "", "value": ""}], [{"name": "a" * 1000}], {}],
        "environmentVariables": [None, [{"name": "A", "value": "b"}], [{"name": "A", "secret": {}}]],
        "command": [None, "", "sleep 1", 1],
        "args": [None, "--x", ["--x"]],
        "nodeType": [None, "", "gpu-node", 0],
        "terminateAfterPreemption": [None, True, 1, "yes"],
        "compute": [None, {}, [], "gpu"],
        "storage": [None, {}, {"pvc": [{"claimName": "c", "path": "/x"}]}, {"pvc": [{"claimName": 1}]}],
        "security": [None, {}, {"runAsUid": 2**31}, {"runAsUid": -1}, {"capabilities": ["NET_ADMIN", 1]}],
        "ports": [None, [{"container": 80}], [{"container": "80"}], [{"container": 2**31}]],
        "probes": [None, {"readiness": {"initialDelaySeconds": -1}}],
        "tty": [None, True, "true"],
    }
    for key, values in spec_values.items():
        for value in values:
            body = copy.deepcopy(base)
            body["spec"][key] = value
            bodies.append(body)
    compute_values: dict[str, list[Any]] = {
        "gpuDevicesRequest": [None, 0, -1, 1, 1.0, True, 2**31, 10**40, "1"],
        "gpuRequestType": [None, "portion", "memory", "migProfile", "Portion", "", 3],
        "gpuPortionRequest": [None, 0.5, -0.0, 1, 1e308, -1e308, "0.5", True],
        "gpuPortionLimit": [None, 0.5, 2.0],
        "gpuMemoryRequest": [None, "10G", "", 10, "x" * 500],
        "cpuCoreRequest": [None, 0.5, -1, "1", math.pi],
        "cpuMemoryRequest": [None, "1G", 1],
        "migProfile": [None, "1g.5gb", "", 1],
        "extendedResources": [None, [], [{"resource": "a", "quantity": "1"}], [{"resource": 1}], [None], {}],
        "largeShmRequest": [None, True, 0],
    }
    for key, values in compute_values.items():
        for value in values:
            body = copy.deepcopy(base)
            body["spec"]["compute"][key] = value
            bodies.append(body)
    return bodies


@pytest.mark.parametrize("contract", list(SCHEMAS))
def test_hand_picked_bodies_are_judged_as_connexion_judges_them(contract: str) -> None:
    bodies = _variants()
    for body in bodies:
        BOTH[contract].agree(body)
    valid = sum(BOTH[contract].reference.is_valid(b) for b in bodies)
    assert 20 < valid < len(bodies) - 20, "the bodies should mix valid and invalid ones"


# --- generated bodies ------------------------------------------------------------------------------

_ANY_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)
_BOUNDARY_INTS = [0, 1, -1, 2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**63 - 1, 2**63, -(2**63) - 1]
_STRINGS = st.sampled_from(
    ["", "a", "A-1", "ü", "x" * 70, CLUSTER_ID, CLUSTER_ID.upper(), "a.b-c", "-a", "a..b", "1.2.3.4"]
)


def _for_schema(schema: dict[str, Any], cache: dict[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """Values shaped by `schema`: mostly ones it takes, some near its bounds, now and then anything."""
    if id(schema) in cache:
        return cache[id(schema)]
    kind = schema.get("type")
    good: list[st.SearchStrategy[Any]] = []
    edge: list[st.SearchStrategy[Any]] = []
    if kind == "object" or "properties" in schema:
        properties = {name: _for_schema(sub, cache) for name, sub in schema.get("properties", {}).items()}
        required = {name: properties.get(name, _ANY_JSON) for name in schema.get("required", [])}
        optional = {name: s for name, s in properties.items() if name not in required}
        good.append(st.fixed_dictionaries(required, optional=optional))
        edge.append(st.fixed_dictionaries({}, optional={**optional, **required, "zz-extra": _ANY_JSON}))
    if kind == "array":
        good.append(st.lists(_for_schema(schema.get("items", {}), cache), max_size=3))
    if kind == "string":
        if "enum" in schema:
            good.append(st.sampled_from([m for m in schema["enum"] if m is not None] or [""]))
        elif "pattern" in schema:
            good.append(st.from_regex(schema["pattern"], fullmatch=True).filter(lambda s: len(s) < 100))
        elif schema.get("format") == "uuid":
            good.append(st.just(CLUSTER_ID))
        else:
            good.append(st.text(min_size=schema.get("minLength", 0), max_size=12))
        edge += [_STRINGS, st.text(max_size=12)]
    if kind in ("integer", "number"):
        low, high = schema.get("minimum", -(2**31)), schema.get("maximum", 2**31 - 1)
        good.append(st.integers(min_value=math.ceil(low), max_value=math.floor(high)))
        if kind == "number":
            good.append(st.floats(min_value=low, max_value=high))
        near = [schema[k] + d for k in ("minimum", "maximum") if k in schema for d in (-1, 0, 1)]
        edge += [st.sampled_from(_BOUNDARY_INTS + near), st.integers()]
        edge.append(
            st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([-0.0, 0.5, 1.0, 1e300])
        )
    if kind == "boolean":
        good.append(st.booleans())
    noise = st.one_of(st.none(), _ANY_JSON)
    # A body has dozens of values, and one wrong one breaks it: most are drawn to fit, a few near the
    # schema's edges, a very few anything at all.
    strategy = st.integers(0, 39).flatmap(
        lambda i: noise if i == 0 or not good else st.one_of(*edge) if i < 3 and edge else st.one_of(*good)
    )
    cache[id(schema)] = strategy
    return strategy


_GENERATED = {contract: _for_schema(schema, {}) for contract, schema in SCHEMAS.items()}


@SETTINGS
@given(st.data())
@pytest.mark.parametrize("contract", list(SCHEMAS))
def test_generated_bodies_are_judged_as_connexion_judges_them(contract: str, data: st.DataObject) -> None:
    BOTH[contract].agree(data.draw(_GENERATED[contract]))


@SETTINGS
@given(st.data())
@pytest.mark.parametrize("contract", list(SCHEMAS))
def test_valid_bodies_with_one_value_changed_are_judged_the_same(contract: str, data: st.DataObject) -> None:
    """From a valid body, one value deep in it replaced by anything: the check must see each break."""
    body = copy.deepcopy(data.draw(st.sampled_from(VALID_BODIES)))
    node: Any = body
    while isinstance(node, (dict, list)) and node and data.draw(st.booleans()):
        key = data.draw(st.sampled_from(sorted(node) if isinstance(node, dict) else range(len(node))))
        if not isinstance(node[key], (dict, list)) or not node[key]:
            node[key] = data.draw(_ANY_JSON | _STRINGS | st.sampled_from(_BOUNDARY_INTS))
            break
        node = node[key]
    BOTH[contract].agree(body)


# --- what does not compile falls back --------------------------------------------------------------


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "#/definitions/x", "definitions": {"x": {}}},
        {"type": "object", "additionalProperties": False},
        {"allOf": [{"type": "string"}]},
        {"type": "object", "properties": {"a": {"oneOf": [{"type": "string"}]}}},
        {"type": "array", "items": [{"type": "string"}]},
        {"type": "array", "minItems": 1},
        {"type": "widget"},
        {"type": "number", "multipleOf": 2},
        True,
    ],
)
def test_keywords_not_compiled_leave_the_decision_to_jsonschema(schema: Any) -> None:
    assert compile_check(schema, Draft4RequestValidator, CHECKER) is None


def test_a_validator_class_with_other_keyword_rules_is_not_mirrored() -> None:
    from jsonschema.validators import extend

    stricter = extend(Draft4RequestValidator, {"minLength": lambda *_: iter(())})
    assert compile_check({"type": "string"}, stricter, CHECKER) is None
    assert compile_check({"type": "string"}, Draft4Validator, CHECKER) is None  # no `nullable`


@pytest.mark.parametrize(
    ("schema", "values"),
    [
        ({"type": "integer", "nullable": True, "minimum": 1}, [None, 0, 1, True, 1.0, "1"]),
        ({"type": "integer", "x-nullable": True}, [None, 1]),
        ({"type": "integer", "x-nullable": "yes"}, [None, 1]),
        ({"enum": ["a", None]}, [None, "a", "b"]),
        ({"enum": ["a"], "nullable": True}, [None, "a", "b", ["a"]]),
        (
            {"enum": [1, True, [1]], "type": ["integer", "boolean", "array"]},
            [1, True, 1.0, False, [1], [True]],
        ),
        ({"type": "number", "minimum": 0, "exclusiveMinimum": True}, [0, -0.0, 1e-300, False]),
        ({"type": "number", "maximum": 1, "exclusiveMaximum": True}, [1, 0.9999, 1.0]),
        ({"type": ["string", "null"], "minLength": 2, "maxLength": 3}, ["a", "ab", "abcd", None, "üü"]),
        ({"pattern": "^a", "minLength": 1}, ["a", "ba", 1, None, ""]),
        ({"format": "uuid"}, [CLUSTER_ID, "x", 1, None]),
        ({"format": "int32"}, [2**31, 2**31 - 1, "2147483648", True]),
        ({"format": "unknown-format"}, ["anything"]),
        ({"required": ["a"], "properties": {"a": {"type": "string"}}}, [{}, {"a": 1}, {"a": "x"}, [], "a"]),
        ({"type": "array", "items": {"type": "integer"}}, [[], [1], [1, "2"], "12", {"0": 1}]),
        ({"description": "only words", "default": 3, "example": "x"}, [None, 1, {"a": []}]),
    ],
)
def test_small_schemas_agree_value_by_value(schema: dict[str, Any], values: list[Any]) -> None:
    both = Both(schema)
    for value in values:
        both.agree(value)


def test_a_schema_is_compiled_once_and_its_check_stays_as_compiled() -> None:
    """Apps built in one process share the check of a schema's content; what a caller later writes into
    its schema (Connexion writes `components` into body schemas) cannot change a check already made."""
    schema: dict[str, Any] = {"type": "object", "required": ["kept"], "properties": {"n": {"maximum": 3}}}
    first = compile_check(schema, Draft4RequestValidator, CHECKER)
    assert first is not None and first({"kept": 1, "n": 3}) and not first({"kept": 1, "n": 4})
    assert compile_check(copy.deepcopy(schema), Draft4RequestValidator, CHECKER) is first
    schema["properties"]["n"]["maximum"] = 10
    schema["required"].append("other")
    assert first({"kept": 1, "n": 3}) and not first({"kept": 1, "n": 4})
    changed = compile_check(schema, Draft4RequestValidator, CHECKER)
    assert changed is not first and changed is not None and not changed({"kept": 1, "n": 4})
    assert changed({"kept": 1, "other": 2, "n": 4})


def test_the_components_connexion_adds_to_a_body_schema_do_not_change_its_check() -> None:
    schema: dict[str, Any] = {"type": "object", "properties": {"n": {"type": "integer"}}}
    with_components = {**schema, "components": {"schemas": {"Other": {"type": "string"}}}}
    plain = compile_check(schema, Draft4RequestValidator, CHECKER)
    assert compile_check(with_components, Draft4RequestValidator, CHECKER) is plain
    referring = {**with_components, "properties": {"n": {"$ref": "#/components/schemas/Other"}}}
    assert compile_check(referring, Draft4RequestValidator, CHECKER) is None  # jsonschema decides

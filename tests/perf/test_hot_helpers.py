"""The shortcuts on the create path give what the code they stand in for gives.

- the fast path's JSON reading (`fastpath._loads`) against `jsonsafe.loads`: the same value, or a
  refusal on both sides;
- the pod requests remembered per compute block (`parsing.request._pod_request`) against
  `pod_request_from_compute`;
- `bound_issues`, which no longer visits the values it has nothing to say of, against the walk that
  visited every value;
- the heap settled once the server serves (`app.settle_heap`);
- a list row's remembered pieces (request views per pod request, timestamps) against computing them.
"""

from __future__ import annotations

import gc
import json
import warnings
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver import app as app_module
from mockserver.cluster.clock import isoformat
from mockserver.cluster.resources import PodRequest
from mockserver.http.fastpath import _loads
from mockserver.http.jsonsafe import UnsafeJson, loads
from mockserver.parsing import bounds
from mockserver.parsing import request as parsing
from mockserver.parsing.compute import pod_request_from_compute
from mockserver.versions import VERSIONS
from mockserver.views import resources

SETTINGS = settings(max_examples=300, deadline=None, derandomize=True)

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**45), max_value=10**45)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.sampled_from('ab[]{}"\\0123456789 ü'), max_size=50),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=12,
)


def _outcome(read: Any, text: str) -> tuple[str, str]:
    try:
        value = read(text)
    except UnsafeJson:
        return ("refused", "")
    return ("value", json.dumps(value) + repr(type(value)))


def _texts() -> st.SearchStrategy[str]:
    dumped = _JSON.map(json.dumps)
    nested = st.integers(0, 80).map(lambda depth: "[" * depth + "1" + "]" * depth)
    spliced = st.tuples(dumped, st.text(alphabet=st.sampled_from('[]{}",:0123456789eE.-NaIfy '), max_size=60))
    return (
        dumped | nested | spliced.map(lambda pair: pair[0][: len(pair[1])] + pair[1]) | st.text(max_size=80)
    )


@SETTINGS
@given(_texts())
def test_the_fast_paths_json_reading_agrees_with_jsonsafe(text: str) -> None:
    assert _outcome(_loads, text) == _outcome(loads, text)


@pytest.mark.parametrize(
    "text",
    [
        "1" * 41,
        '"' + "1" * 41 + '"',
        "[" * 64 + "]" * 64,
        "[" * 65 + "]" * 65,
        '["' + "[" * 70 + '"]',
        "NaN",
        "-Infinity",
        "1e400",
        '{"a": 1.5e308}',
        "0." + "1" * 39,
        "0." + "1" * 40,
        "",
        '"\\ud800"',
    ],
)
def test_json_reading_at_the_bounds(text: str) -> None:
    assert _outcome(_loads, text) == _outcome(loads, text)


_COMPUTES: list[dict[str, Any]] = [
    {},
    {"gpuDevicesRequest": 1},
    {"gpuDevicesRequest": True},  # equal to 1 in Python, not a count here
    {"gpuDevicesRequest": 1.0},
    {"gpuDevicesRequest": 2, "gpuRequestType": "portion", "gpuPortionRequest": 0.5},
    {"gpuRequestType": "portion", "gpuDevicesRequest": 2, "gpuPortionRequest": 0.5},
    {"gpuRequestType": "memory", "gpuMemoryRequest": "10G"},
    {"gpuRequestType": "memory", "gpuMemoryRequest": "10Gi"},
    {"gpuRequestType": "migProfile", "migProfile": "1g.5gb"},
    {"cpuCoreRequest": 0.5, "cpuMemoryRequest": "1G"},
    {"cpuCoreRequest": -0.0},
    {"extendedResources": [{"resource": "a", "quantity": "2"}]},
    {"gpuDevicesRequest": None, "cpuMemoryRequest": None},
]


def test_remembered_pod_requests_are_the_ones_computed() -> None:
    for _ in range(2):  # the second round from the cache where it applies
        for compute in _COMPUTES:
            assert parsing._pod_request(compute) == pod_request_from_compute(compute), compute
    assert parsing._pod_request({"gpuDevicesRequest": True}).gpus == 0
    assert parsing._pod_request({"gpuDevicesRequest": 1}).gpus == 1


def test_the_pod_cache_starts_over_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsing, "MAX_CACHED_PODS", 3)
    monkeypatch.setattr(parsing, "_pods", {})
    for devices in range(10):
        assert parsing._pod_request({"gpuDevicesRequest": devices}).gpus == devices
        assert len(parsing._pods) <= 3


def _every_value_walk(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """bound_issues' walk as it was: every value visited."""
    if isinstance(value, str) and len(value) > bounds.MAX_STRING:
        yield where, f"must be at most {bounds.MAX_STRING} characters"
    elif isinstance(value, list):
        if len(value) > bounds.MAX_LIST_ITEMS:
            yield where, f"must have at most {bounds.MAX_LIST_ITEMS} items"
            return
        for index, item in enumerate(value):
            yield from _every_value_walk(item, f"{where}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _every_value_walk(item, f"{where}.{key}")


@SETTINGS
@given(_JSON | st.dictionaries(st.text(max_size=3), _JSON, max_size=4))
def test_bound_issues_name_the_same_problems_as_the_walk_over_every_value(spec: Any) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bounds, "MAX_STRING", 3)  # small bounds, so that generated values cross them
        patch.setattr(bounds, "MAX_LIST_ITEMS", 2)
        assert list(bounds._sizes(spec, "spec")) == list(_every_value_walk(spec, "spec"))


def test_an_embedded_app_leaves_the_collector_alone() -> None:
    before = gc.get_threshold()
    app = app_module.create_app()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with app.test_client() as client:
            assert client.get("/api/v1/openapi.json").status_code == 200
    assert gc.get_threshold() == before


def test_a_served_app_settles_the_heap_once() -> None:
    app = app_module.create_app(own_process=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with app.test_client() as client:  # the lifespan starts here
            assert client.get("/api/v1/openapi.json").status_code == 200
    assert app_module._heap_settled
    assert gc.get_threshold()[2] == app_module.FULL_COLLECTION_EVERY
    assert gc.get_freeze_count() > 0
    frozen = gc.get_freeze_count()
    app_module.settle_heap()  # once per process: later apps freeze nothing more
    assert gc.get_freeze_count() == frozen


# -- the list's remembered pieces -------------------------------------------------------------------


PODS = st.builds(
    PodRequest,
    gpus=st.integers(0, 4),
    cpu_millis=st.integers(0, 8000),
    memory_mib=st.sampled_from([0.0, 512.0, 1024.0]),
    extended=st.sampled_from([(), (("nvidia.com/rdma", 1.0),)]),
)


@given(st.sampled_from(sorted(VERSIONS)), st.lists(PODS, min_size=1, max_size=3), st.booleans())
def test_a_remembered_request_view_is_the_computed_one_and_shares_nothing(
    name: str, pods: list[PodRequest], one_pod: bool
) -> None:
    version = VERSIONS[name]
    first = resources.requested(version, pods, one_pod=one_pod)
    assert first == resources._answer(version, pods, one_pod)
    # Whatever a caller does to its copy, the next caller gets the answer itself.
    for value in first.values():
        if isinstance(value, dict):
            value["request"] = "changed"
        elif isinstance(value, list):
            value.append("changed")
    assert resources.requested(version, pods, one_pod=one_pod) == resources._answer(version, pods, one_pod)


@given(st.floats(0, 4e9, allow_nan=False))
def test_a_remembered_timestamp_is_the_formatted_one(timestamp: float) -> None:
    expected = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    text = isoformat(timestamp)
    assert text == isoformat(timestamp)
    assert text == expected.strftime("%Y-%m-%dT%H:%M:%S.") + f"{expected.microsecond // 1000:03d}Z"

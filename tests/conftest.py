"""Shared fixtures: the app in-process on a manual clock, a client, a token, the seed's example."""

from __future__ import annotations

import copy
import gc
import json
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mockserver.app import create_app
from mockserver.specs import load_spec


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--slow",
        action="store_true",
        default=False,
        help="also run the slow end-to-end tier (live servers on real time, whole harness runs); CI does",
    )


def pytest_collection_finish(session: pytest.Session) -> None:
    """The test process's cyclic collector set for what it is: a large, long-lived heap (every test
    module, Schemathesis, Hypothesis, the contracts) and many short-lived apps, each leaving cycles. What
    collection built is frozen (never walked again) and the collector runs less often: full collections
    over that heap took a third of the in-process API tests' CPU time. The fake's server and the harness
    set their own (mockserver/app.py `settle_heap`, contracts/run/execute.py)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


# Before pytest-xdist's own hook, which reads the `xdist_group` marks this one adds.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Plain `pytest` is the fast tier a developer runs between edits; `--slow` (or an explicit `-m`)
    runs the rest too. Then the order and groups the parallel run uses (`_schedule`)."""
    if not (config.getoption("--slow") or config.option.markexpr):
        slow = [item for item in items if item.get_closest_marker("slow") is not None]
        if slow:
            config.hook.pytest_deselected(items=slow)
            items[:] = [item for item in items if item.get_closest_marker("slow") is None]
    _unique_ids(items)
    _schedule(items)


def _unique_ids(items: list[pytest.Item]) -> None:
    """Schemathesis' parametrized cases share one node id per test function (the operation is only in the
    name); pytest-xdist hands tests out by node id, so all but one case of each silently never ran on the
    workers. The operation goes into the id too."""
    for item in items:
        name = item.name
        if "[" in name and not item.nodeid.endswith("]"):
            item._nodeid = item._id = item.nodeid + name[name.index("[") :]  # type: ignore[attr-defined]


_SHARED_SCOPES = ("module", "class", "package", "session")


def _schedule(items: list[pytest.Item]) -> None:
    """How `--dist loadgroup` spreads the tests over workers (pyproject's addopts).

    A module's tests run on one worker, so they share its live servers and browser (module fixtures),
    except that each parameter of a shared fixture (an API version's server, say) is a group of its own:
    pytest starts one instance per parameter anyway, and the versions then run side by side. A module
    marked `spread` shares nothing costly; its tests go to any worker one by one.

    Workers take the units (groups, and a spread module's tests) in the order they come here. The slow
    tier comes first, with the units that mostly wait on real time (marked `waits`) spread evenly among
    those that compute, the longest waits first: two cores stay busy while a worker waits, where waiting
    units started together left them idle. The fast tier's many short units fill in behind."""
    units: dict[str, list[pytest.Item]] = {}
    for item in items:
        unit = item.nodeid
        if item.get_closest_marker("spread") is None:
            group = item.nodeid.split("::", 1)[0] + _shared_params(item)
            # xdist reads the group after the last "@", and only when no "]" follows it.
            unit = re.sub(r"[^\w./=,-]", "_", group)
            item.add_marker(pytest.mark.xdist_group(unit))
        units.setdefault(unit, []).append(item)
    slow = [unit for unit, members in units.items() if any(m.get_closest_marker("slow") for m in members)]
    waits = {unit: sum(_waits(member) for member in units[unit]) for unit in slow}
    waiting = sorted((unit for unit in slow if waits[unit]), key=lambda unit: -waits[unit])
    working = [unit for unit in slow if not waits[unit]]
    # Each waiting unit after an equal share of the working ones, the longest wait first.
    share = len(working) / max(len(waiting), 1)
    turns = sorted(
        [
            *((index * share, 1, unit) for index, unit in enumerate(waiting)),
            *((i, 2, u) for i, u in enumerate(working)),
        ]
    )
    fast = [unit for unit in units if unit not in waits]
    items[:] = [member for _, _, unit in turns for member in units[unit]] + [
        member for unit in fast for member in units[unit]
    ]


def _waits(item: pytest.Item) -> float:
    """About how many seconds the test waits on real time (`waits(seconds)`), 0 when unmarked. A hint for
    the order only: a wrong figure costs time, never a result."""
    marker = item.get_closest_marker("waits")
    return float(marker.args[0]) if marker is not None else 0.0


def _shared_params(item: pytest.Item) -> str:
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return ""
    definitions = item._fixtureinfo.name2fixturedefs  # type: ignore[attr-defined]
    shared = [
        f"{name}={callspec.params[name]!r}"
        for name in sorted(callspec.params)
        if name in definitions and definitions[name][-1].scope in _SHARED_SCOPES
    ]
    return f"-{','.join(shared)}" if shared else ""


REPO = Path(__file__).resolve().parents[1]
TEST_DATA = REPO / "tests" / "data"
CLUSTER_ID = "71f69d83-ba66-4822-adf5-55ce55efd210"


def seed_request_as_published() -> dict[str, Any]:
    """The documentation's example request as published, with its two type errors (kept in tests/data)."""
    return json.loads((TEST_DATA / "seed-create-request.json").read_text())


def corrected_seed_request() -> dict[str, Any]:
    spec = load_spec()
    create = spec["paths"]["/api/v1/workloads/trainings"]["post"]
    return copy.deepcopy(create["requestBody"]["content"]["application/json"]["examples"]["seed"]["value"])


@pytest.fixture
def app():
    return create_app()


@pytest.fixture
def client(app) -> Iterator[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with app.test_client() as test_client:
            yield test_client


def get_token(client: Any, client_id: str = "mock-app", secret: str = "mock-secret") -> str:
    response = client.post(
        "/api/v1/token", json={"grantType": "app_token", "AppId": client_id, "AppSecret": secret}
    )
    assert response.status_code == 200, response.text
    return response.json()["accessToken"]


@pytest.fixture
def auth(client) -> dict[str, str]:
    return {"Authorization": f"Bearer {get_token(client)}"}


class Api:
    """A few verbs over the test client, so tests read as the lifecycle they check."""

    def __init__(self, client: Any, headers: dict[str, str]) -> None:
        self.client, self.headers = client, headers

    def create(self, body: dict[str, Any]) -> Any:
        return self.client.post("/api/v1/workloads/trainings", json=body, headers=self.headers)

    def get(self, workload_id: str) -> Any:
        return self.client.get(f"/api/v1/workloads/trainings/{workload_id}", headers=self.headers)

    def phase(self, workload_id: str) -> str:
        response = self.get(workload_id)
        return response.json()["actualPhase"] if response.status_code == 200 else str(response.status_code)

    def action(self, workload_id: str, verb: str) -> Any:
        return self.client.post(f"/api/v1/workloads/trainings/{workload_id}/{verb}", headers=self.headers)

    def delete(self, workload_id: str) -> Any:
        return self.client.delete(f"/api/v1/workloads/trainings/{workload_id}", headers=self.headers)

    def advance(self, seconds: float) -> None:
        response = self.client.post("/api/mock/v1/clock/advance", json={"seconds": seconds})
        assert response.status_code == 200, response.text

    def phases_over(self, workload_id: str, seconds: int) -> list[str]:
        """The distinct phases seen, second by second."""
        seen = [self.phase(workload_id)]
        for _ in range(seconds):
            self.advance(1)
            phase = self.phase(workload_id)
            if phase != seen[-1]:
                seen.append(phase)
        return seen


@pytest.fixture
def api(client, auth) -> Api:
    return Api(client, auth)


def training(name: str = "train-a", project: str = "1", **spec: Any) -> dict[str, Any]:
    return {
        "name": name,
        "projectId": project,
        "clusterId": CLUSTER_ID,
        "spec": {"image": "python:3.11", "compute": {"gpuDevicesRequest": 1}, **spec},
    }

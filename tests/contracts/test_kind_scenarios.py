"""The harness's gang scenario without a backend: how big a gang the measured room cannot hold, and a
room that cannot be measured makes the scenario skipped (with the reason), not failed or inconclusive.
Its run against our fake is the default harness run's (tests/contracts/test_harness_vs_fake.py)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from contracts.run.gang_scenario import size_from_project, size_from_snapshot
from contracts.run.scenarios import SCENARIOS, run_scenario
from contracts.specs import DISTRIBUTED


def _project(*pools: tuple[str, Any]) -> dict[str, Any]:
    return {"resources": [{"nodePool": {"name": n}, "gpu": {"deserved": 1, "limit": g}} for n, g in pools]}


def test_a_finite_gpu_limit_sizes_the_gang_one_gpu_over_it():
    size = size_from_project(_project(("open", -1), ("small", 3.5), ("other", 8)))
    assert size is not None and (size.workers, size.pool) == (3, "small")
    assert size.workers + 1 > 3.5  # the master's GPU puts it over the limit
    closed = size_from_project(_project(("none", 0)))  # no GPU allowed: one GPU worker is over it
    assert closed is not None and (closed.workers, closed.pool) == (1, "none") and "is 0" in closed.why


def test_open_or_unreadable_limits_size_nothing():
    assert size_from_project(_project(("open", -1), ("unset", None))) is None
    assert size_from_project({"resources": "garbage"}) is None
    assert size_from_project(None) is None


def test_the_fakes_snapshot_sizes_the_gang_over_its_biggest_pool():
    nodes = [
        {"pool": "a", "gpus": 4},
        {"pool": "a", "gpus": 4},
        {"pool": "b", "gpus": 6},
        {"pool": "cpu", "gpus": 0},
    ]
    size = size_from_snapshot({"nodes": nodes})
    assert size is not None and (size.workers, size.pool) == (8, "a")
    assert size_from_snapshot({"nodes": [{"pool": "cpu", "gpus": 0}]}) is None


class _Client:
    def __init__(self, project: Any) -> None:
        self.project = project
        self.contract = SimpleNamespace(offered=frozenset({*DISTRIBUTED.operation_ids, "get_workload"}))
        self.result: Any = None
        self.last_curl = ""
        self.views: list[str] = []

    def view(self, path: str, label: str | None = None, **_: Any) -> tuple[int, Any]:
        self.views.append(path)
        return 200, self.project


def test_an_unknown_room_skips_the_scenario_with_the_reason_and_creates_nothing():
    scenario = next(s for s in SCENARIOS if s.name == "distributed-gang-waits")
    client = _Client(_project(("default", -1)))
    ctx = SimpleNamespace(
        client=client,
        control=None,
        no_room=None,
        room=None,
        steps=[],
        placement=SimpleNamespace(project_id="7"),
        step=lambda text: ctx.steps.append(text),
        release=lambda: None,
    )
    result = run_scenario(scenario, ctx)  # type: ignore[arg-type]
    assert result.outcome == "skipped" and not result.findings
    assert result.reason is not None and "room unknown" in result.reason and "project 7" in result.reason
    assert client.views == ["/api/v1/org-unit/projects/7"]  # a look-up only: no workload was created

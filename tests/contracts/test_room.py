"""Room before verdicts: what the harness reads of a project's room, why a training is held, and how a
wait on a held training ends (inconclusive with the backend's reason; a finding only without one)."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.run.capacity import hold_reason, room_from_project
from contracts.run.events import Event, Held, StillWaiting
from contracts.run.execute import RunOptions
from contracts.run.waiting import ADAPT, ScenarioFailed, ScenarioInconclusive, VirtualTime
from contracts.urls import url_fix
from tests.contracts.test_waiting import ManualClock, StubControl, reader, wall_time

RUNNING = frozenset({"Running"})
REASON = "OverLimit: Project team-a in node pool default quota has reached the allowable limit"


def project(gpu_limit: float, cpu_limit: float = -1, memory_limit: float = -1) -> dict[str, Any]:
    return {
        "id": "1",
        "name": "team-a",
        "resources": [
            {
                "nodePool": {"id": "1", "name": "default"},
                "gpu": {"deserved": 0, "limit": gpu_limit},
                "cpu": {"deserved": -1, "limit": cpu_limit},
                "memory": {"deserved": -1, "limit": memory_limit},
            }
        ],
        "status": {"nodePoolQuotaStatuses": [{"nodePoolName": "default", "allocated": {"gpu": 0}}]},
    }


def test_a_project_whose_quota_allows_nothing_is_blocked_and_has_no_gpu_room() -> None:
    room = room_from_project(project(gpu_limit=0, cpu_limit=0, memory_limit=0), "1")
    assert room.project == "team-a"
    assert room.gpu_room is False
    assert room.blocked is not None and "team-a" in room.blocked
    assert room.lines == [
        "project team-a, node pool default: GPU deserved 0, limit 0, allocated 0; CPU limit 0; memory limit 0"
    ]


def test_an_unlimited_project_has_room_as_far_as_its_quota_says() -> None:
    room = room_from_project(project(gpu_limit=-1), "1")
    assert room.gpu_room is True and room.blocked is None
    assert room_from_project(project(gpu_limit=0), "1").gpu_room is False
    assert room_from_project({"id": "1"}, "1").gpu_room is None  # nothing said: nothing assumed


def test_the_reason_comes_from_the_scheduling_condition_else_the_phase_message() -> None:
    condition = {"type": "PodScheduled", "status": "False", "reason": "OverLimit", "message": "quota"}
    assert hold_reason({"conditions": [condition], "phaseMessage": "other"}) == "OverLimit: quota"
    assert hold_reason({"conditions": [], "phaseMessage": "no nodes"}) == "no nodes"
    assert hold_reason({"conditions": [{**condition, "status": "True"}], "phaseMessage": ""}) is None
    assert hold_reason(None) is None


def test_a_training_held_with_a_reason_ends_the_wait_inconclusive_at_the_limit() -> None:
    clock = ManualClock()
    seen: list[Event] = []
    waiting = wall_time(clock, timeout=100, emit=seen.append)
    with pytest.raises(ScenarioInconclusive) as held:
        waiting.until(lambda: "Pending", RUNNING, "waiting for Running", why=lambda: REASON)
    assert held.value.reason == REASON
    assert 100 <= clock.now < 110
    assert any(isinstance(e, Held) and e.reason == REASON for e in seen)
    # The person watching is told, every so often, the phase, for how long and why.
    still = [e for e in seen if isinstance(e, StillWaiting)]
    assert still and all(e.phase == "Pending" and e.reason == REASON for e in still)


def test_pending_with_no_reason_is_still_a_finding() -> None:
    clock = ManualClock()
    with pytest.raises(ScenarioFailed, match="no reason"):
        wall_time(clock, timeout=100).until(lambda: "Pending", RUNNING, "w", why=lambda: None)


def test_patience_ends_a_held_wait_early() -> None:
    clock = ManualClock()
    with pytest.raises(ScenarioInconclusive):
        wall_time(clock, timeout=600).until(lambda: "Pending", RUNNING, "w", why=lambda: REASON, patience=10)
    assert clock.now < 20


def test_the_limit_adapts_to_the_dwell_times_seen() -> None:
    clock = ManualClock()
    waiting = wall_time(clock, timeout=10)
    phases = reader(["Creating"] * 30 + ["Running"])  # Creating lasts far longer than the timeout...
    with pytest.raises(ScenarioFailed):
        waiting.until(lambda: next(phases), RUNNING, "w")
    waiting.dwell["Creating"] = 8.0  # ...unless the run has seen Creating last 8 s before
    assert waiting.limit("Creating") == ADAPT * 8.0
    phases = reader(["Creating"] * 12 + ["Running"])
    assert waiting.until(lambda: next(phases), RUNNING, "w") == "Running"


def test_virtual_time_ends_a_held_wait_inconclusive() -> None:
    waiting = VirtualTime(StubControl(), limit_seconds=60)  # type: ignore[arg-type]
    with pytest.raises(ScenarioInconclusive):
        waiting.until(lambda: "Pending", RUNNING, "w", why=lambda: REASON)
    with pytest.raises(ScenarioFailed):
        waiting.until(lambda: "Pending", RUNNING, "w", why=lambda: None)


def test_the_default_footprint_is_cpu_only_and_the_gpu_request_is_separate() -> None:
    options = RunOptions()
    assert not any(key.startswith("gpu") for key in options.compute())
    assert options.gpu_compute()["gpuDevicesRequest"] == 1
    mine = RunOptions(compute_request={"gpuDevicesRequest": 2})
    assert mine.compute() == mine.gpu_compute() == {"gpuDevicesRequest": 2}
    assert options.scenario_timeout <= 300


@pytest.mark.parametrize(
    ("url", "fix"),
    [
        ("https://tenant.run.ai/api/v1", "drop /api/v1"),
        ("https://tenant.run.ai/api/v1/", "drop /api/v1"),
        ("http://127.0.0.1:8080/api", "drop /api"),
        ("https://tenant.run.ai", None),
        ("https://example.com/runai", None),
    ],
)
def test_a_url_naming_the_api_path_gets_the_fix(url: str, fix: str | None) -> None:
    said = url_fix(url)
    assert (said is None) if fix is None else (said is not None and fix in said)

"""How scenarios wait: the fake's clock is advanced step by step; a live backend is polled fast, then less
often; either way a training that can no longer reach the wanted phase ends the wait at once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from contracts.backend.safety import NameSource
from contracts.backend.target import Placement
from contracts.oracle.phases import Action
from contracts.run.context import ScenarioContext
from contracts.run.events import Event, PhaseSeen, ignore
from contracts.run.scenarios import SCENARIOS, run_scenario
from contracts.run.waiting import GONE, BudgetSpent, ScenarioFailed, VirtualTime, WallTime, can_still_reach
from contracts.specs import VIEW_OPERATIONS, load_contract

RUNNING = frozenset({"Running"})


class StubControl:
    def __init__(self) -> None:
        self.advanced: list[float] = []

    def advance(self, seconds: float) -> None:
        self.advanced.append(seconds)


def reader(phases: list[str]) -> Iterator[str]:
    yield from phases
    while True:
        yield phases[-1]


@dataclass
class ManualClock:
    """Stands in for time.monotonic and time.sleep: sleeping moves it, nothing else does."""

    now: float = 0.0
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def wall_time(clock: ManualClock, **kwargs: Any) -> WallTime:
    settings: dict[str, Any] = {"timeout": 600, "interval": 2.0, "emit": ignore}
    return WallTime(**{**settings, **kwargs}, sleep=clock.sleep, clock=clock)


def test_virtual_time_reads_every_second_then_coarser() -> None:
    control = StubControl()
    phases = reader(["Creating"] * 70 + ["Running"])
    waiting = VirtualTime(control, limit_seconds=600)  # type: ignore[arg-type]
    assert waiting.until(lambda: next(phases), RUNNING, "wait") == "Running"
    assert control.advanced == [1] * 60 + [10] * 10


def test_virtual_time_gives_up_with_the_phase_it_saw() -> None:
    waiting = VirtualTime(StubControl(), limit_seconds=30)  # type: ignore[arg-type]
    with pytest.raises(ScenarioFailed, match="still Pending after 30 virtual seconds"):
        waiting.until(lambda: "Pending", RUNNING, "waiting for Running")


def test_virtual_time_stops_at_a_phase_that_cannot_lead_to_the_wanted_one() -> None:
    control = StubControl()
    phases = reader(["Running", "Completed"])
    waiting = VirtualTime(control)  # type: ignore[arg-type]
    with pytest.raises(ScenarioFailed, match="Completed after 1 virtual seconds"):
        waiting.until(lambda: next(phases), frozenset({"Stopped"}), "waiting for Stopped", [Action.SUSPEND])
    assert control.advanced == [1]


def test_wall_time_polls_fast_first_then_backs_off() -> None:
    clock = ManualClock()
    seen: list[Event] = []
    phases = reader(["Pending"] * 12 + ["Running"])
    waiting = wall_time(clock, emit=seen.append)
    assert waiting.until(lambda: next(phases), RUNNING, "waiting for Running") == "Running"
    assert clock.slept[0] < 1  # sub-second at first
    assert clock.slept == sorted(clock.slept) and clock.slept[-1] == 2.0  # backing off up to the interval
    # One event per phase seen, not per poll.
    assert seen == [PhaseSeen("waiting for Running", "Pending", 0.0)]


def test_wall_time_times_out() -> None:
    waiting = wall_time(ManualClock(), timeout=10)
    with pytest.raises(ScenarioFailed, match="still Pending after 10 s"):
        waiting.until(lambda: "Pending", RUNNING, "waiting for Running")


def test_a_training_that_completes_while_waiting_for_running_ends_the_wait_within_one_poll() -> None:
    clock = ManualClock()
    phases = reader(["Creating", "Pending", "Completed"])
    reads: list[str] = []

    def read() -> str:
        reads.append(next(phases))
        return reads[-1]

    with pytest.raises(ScenarioFailed) as failed:
        wall_time(clock, timeout=900).until(read, RUNNING, "waiting for Running")
    assert reads == ["Creating", "Pending", "Completed"]
    assert "the training is Completed" in str(failed.value) and "Running can no longer be reached" in str(
        failed.value
    )
    assert clock.now < 1  # nowhere near the 900 s timeout


def test_the_budget_stops_a_wait() -> None:
    clock = ManualClock()
    with pytest.raises(BudgetSpent, match="max-duration"):
        wall_time(clock, deadline=5.0).until(lambda: "Pending", RUNNING, "waiting for Running")
    assert clock.now <= 5.0


@pytest.mark.parametrize(
    ("phase", "wanted", "actions", "possible"),
    [
        ("Pending", {"Running"}, [], True),
        ("Completed", {"Running"}, [], False),
        ("Failed", {"Stopped"}, [Action.SUSPEND], False),
        ("Running", {"Stopped"}, [], False),
        ("Running", {"Stopped"}, [Action.SUSPEND], True),  # the suspend has not taken effect yet
        ("Stopping", {"Running"}, [Action.RESUME], True),
        ("Completed", {GONE}, [], True),  # auto-deletion
        ("Running", {GONE}, [Action.DELETE], True),
        (GONE, {"Running"}, [], False),
        (GONE, {GONE}, [], True),
        ("Unknown", {"Running"}, [], True),
    ],
)
def test_what_can_still_be_reached(
    phase: str, wanted: set[str], actions: list[Action], possible: bool
) -> None:
    assert can_still_reach(phase, frozenset(wanted), actions) is possible


class ScriptedClient:
    """A backend that answers the lifecycle scenario from a script of phases, recording what it was asked."""

    def __init__(self, phases: list[str]) -> None:
        self.contract = load_contract()
        self.phases = reader(phases)
        self.calls: list[str] = []
        self.result: object = None
        self.last_curl: str | None = None

    def call(self, operation_id: str, workload_id: str | None = None, body: Any = None) -> Any:
        self.calls.append(operation_id)
        status = self.contract.operation(operation_id).success_status
        content = {"workloadId": "w1", "actualPhase": "Creating"} if body is not None else None
        answer = type("Answer", (), {})()
        answer.status_code, answer.content = status, content
        return answer

    def phase(self, workload_id: str, kind: object = None) -> str:
        return next(self.phases)

    def view(
        self, path: str, params: dict[str, str] | None = None, label: str | None = None, probe: bool = False
    ) -> tuple[int, Any]:
        return 404, None  # a backend without the workloads API


def context(client: ScriptedClient, waiting: Any) -> ScenarioContext:
    return ScenarioContext(
        client,  # type: ignore[arg-type]
        waiting,
        NameSource("abc123"),
        Placement("1", "c"),
        "busybox",
        {},
        None,
    )


def lifecycle_result(client: ScriptedClient, waiting: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(
        "contracts.run.context.json_body", lambda response: response.content if response.content else None
    )
    scenario = next(s for s in SCENARIOS if s.name == "lifecycle")
    return run_scenario(scenario, context(client, waiting))


def test_the_lifecycle_scenario_reports_a_finished_training_and_deletes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = ScriptedClient(["Pending", "Completed"])
    clock = ManualClock()
    result = lifecycle_result(client, wall_time(clock), monkeypatch)
    assert result.outcome == "failed"
    assert "the training is Completed" in result.findings[0].message
    assert client.calls == ["create_training1", "delete_training"]  # nothing left behind
    assert clock.now < 1


def test_a_scenario_cut_short_by_the_budget_is_skipped_and_cleans_up(monkeypatch: pytest.MonkeyPatch) -> None:
    client = ScriptedClient(["Pending"])
    result = lifecycle_result(client, wall_time(ManualClock(), deadline=3.0), monkeypatch)
    assert result.outcome == "skipped" and not result.findings
    assert "max-duration" in result.steps[-1] or "max-duration" in " ".join(result.steps)
    assert client.calls == ["create_training1", "delete_training"]


def test_an_action_that_never_shows_ends_the_wait_after_the_grace_period() -> None:
    clock = ManualClock()
    waiting = wall_time(clock, grace=30.0)
    with pytest.raises(ScenarioFailed, match=r"still Running .* after delete .*did not take effect"):
        waiting.until(lambda: "Running", frozenset({GONE}), "waiting for 404", [Action.DELETE], "Running")
    assert 30 <= clock.now < 35  # at the grace period, not the 600 s timeout


def test_an_action_that_shows_late_but_within_the_grace_period_is_fine() -> None:
    clock = ManualClock()
    phases = reader(["Running"] * 5 + ["Stopping", "Stopped"])
    waiting = wall_time(clock, grace=30.0)
    assert (
        waiting.until(lambda: next(phases), frozenset({"Stopped"}), "w", [Action.SUSPEND], "Running")
        == "Stopped"
    )


class ViewsClient(ScriptedClient):
    """Also answers the workloads look-ups, from a table of path -> (status, body)."""

    def __init__(self, phases: list[str], views: dict[str, Any]) -> None:
        super().__init__(phases)
        self.contract = replace(self.contract, offered=frozenset(VIEW_OPERATIONS))
        self.views: dict[str, tuple[int, Any]] = views

    def call(self, operation_id: str, workload_id: str | None = None, body: Any = None) -> Any:
        answer = super().call(operation_id, workload_id, body)
        if body is not None:
            answer.content = {**answer.content, "name": "ct-abc123-views-1-x7k2q"}
        return answer

    def view(
        self, path: str, params: dict[str, str] | None = None, label: str | None = None, probe: bool = False
    ) -> tuple[int, Any]:
        return self.views[path]


def views_result(client: ScriptedClient, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(
        "contracts.run.context.json_body", lambda response: response.content if response.content else None
    )
    scenario = next(s for s in SCENARIOS if s.name == "views")
    return run_scenario(scenario, context(client, wall_time(ManualClock())))


@pytest.mark.parametrize(
    ("views", "says"),
    [
        ({"/api/v1/workloads/w1": (200, {"phase": "Pending"})}, "phase 'Pending'"),
        (
            {
                "/api/v1/workloads/w1": (200, {"phase": "Running"}),
                "/api/v1/workloads": (200, {"workloads": [{"id": "w1"}]}),
                "/api/v1/workloads/count": (200, {"count": 2}),
            },
            "says 2",
        ),
    ],
)
def test_the_views_scenario_finds_views_that_disagree_with_the_training(
    views: dict[str, Any], says: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = views_result(ViewsClient(["Running"], views), monkeypatch)
    assert result.outcome == "failed" and says in result.findings[0].message


def test_the_views_scenario_is_skipped_where_the_contract_lacks_the_look_ups(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = ScriptedClient(["Running"])
    client.contract = replace(client.contract, offered=frozenset())
    result = views_result(client, monkeypatch)
    assert result.outcome == "skipped" and client.calls == []

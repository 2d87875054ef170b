"""Walking the selected lifecycle scenarios, one after another, each result emitted.

The cluster's room decides what a walk can conclude: when the smallest training of a scenario was held
by the cluster (no room for the project), the scenarios after it would only wait for the same room, so
they are reported inconclusive with the same reason instead of waiting out their limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contracts.backend.safety import NameSource
from contracts.backend.target import Placement, Target
from contracts.run.budget import Budget
from contracts.run.context import ScenarioClient, ScenarioContext
from contracts.run.engine import BUDGET
from contracts.run.events import EventStream, ScenarioFinished, ScenarioSkipped, ScenarioStarted
from contracts.run.outcome import INCONCLUSIVE, Room, RunOutcome
from contracts.run.scenarios import GPU_PATIENCE, Scenario, run_scenario, skipped
from contracts.run.waiting import VirtualTime, Waiting, WallTime


@dataclass(frozen=True)
class Walk:
    """What the walk takes from the run's options."""

    scenarios: list[Scenario]
    image: str
    compute: dict[str, Any]
    gpu_compute: dict[str, Any]
    scenario_timeout: float
    poll_interval: float
    action_grace: float


def run_scenarios(
    options: Walk,
    target: Target,
    client: ScenarioClient,
    names: NameSource,
    outcome: RunOutcome,
    budget: Budget,
    stream: EventStream,
    room: Room | None = None,
) -> None:
    """Walk the selected scenarios, each one's result emitted; what the budget or an interrupt leaves out
    is emitted as skipped, never dropped."""
    waiting: Waiting
    if target.control is not None and target.manual_clock:
        waiting = VirtualTime(target.control)
    else:
        waiting = WallTime(
            options.scenario_timeout,
            options.poll_interval,
            stream.emit,
            deadline=budget.deadline,
            grace=options.action_grace,
        )
    # Set once a training needing no more than the smallest footprint was held by the cluster.
    no_room: str | None = None
    # Where the quota already says there is no room, the scheduler's first reason is taken at its word.
    patience = 0.0 if room is not None and room.blocked else None
    pending = list(options.scenarios)
    try:
        while pending:
            scenario = pending[0]
            if budget.spent():
                break
            stream.emit(ScenarioStarted(scenario.name, scenario.title))
            context = ScenarioContext(
                client,
                waiting,
                names,
                outcome.placement or Placement("", ""),
                options.image,
                options.compute,
                target.control,
                emit=stream.emit,
                gpu_compute=options.gpu_compute,
                room=room,
                hold_patience=patience,
                gpu_patience=min(GPU_PATIENCE, options.scenario_timeout),
                no_room=no_room,
            )
            result = run_scenario(scenario, context)
            if result.outcome == INCONCLUSIVE:
                no_room = no_room or result.reason
            pending.pop(0)
            stream.emit(ScenarioFinished(result))
    except KeyboardInterrupt:
        for scenario in pending:
            stream.emit(ScenarioSkipped(skipped(scenario, "the run was interrupted")))
        raise
    for scenario in pending:
        stream.emit(ScenarioSkipped(skipped(scenario, BUDGET)))
    if pending:
        outcome.not_run.append(f"scenario(s) {', '.join(s.name for s in pending)}: {BUDGET}")

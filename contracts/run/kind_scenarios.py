"""Lifecycle scenarios of the workload kinds beside trainings: a workspace whose command ends, a distributed
training whose gang runs, an inference whose PATCH rolls out through Updating.

Each creates the smallest workload of its kind (the run's CPU-only footprint, one master and one worker),
named with the run's prefix and journalled with its kind like every other; `run_scenario` skips a scenario
whose kind or operation the contract lacks, and a cluster without room makes it INCONCLUSIVE as for
trainings.
"""

from __future__ import annotations

from typing import Any

from contracts.oracle.checks import json_body
from contracts.run.context import LONG_LIVED, SHORT_LIVED, ScenarioContext
from contracts.run.waiting import GONE, ScenarioFailed
from contracts.specs import DISTRIBUTED, INFERENCES, WORKSPACES, Kind

# The smallest gang: a master and one worker, both of the run's CPU-only footprint.
GANG = {"distributedFramework": "PyTorch", "numWorkers": 1}
# Where an inference serves: any port will do, the harness never connects to it.
SERVING = {"servingPort": {"container": 8000}}


def needs(kind: Kind, *more: str | None) -> tuple[str, ...]:
    """The operations a scenario of `kind` uses: create, get and delete, plus `more`."""
    return (kind.create, kind.get, kind.delete, *[op for op in more if op is not None])


def workspace_completes(ctx: ScenarioContext) -> None:
    """A workspace whose command ends is Completed (as a data mover's copy is), then deleted -> 404."""
    wid = ctx.create("ws", SHORT_LIVED, kind=WORKSPACES)
    ctx.reach(wid, "Completed")
    ctx.act(WORKSPACES.delete, wid)
    ctx.reach(wid, GONE)


def distributed_runs(ctx: ScenarioContext) -> None:
    """A distributed training of one master and one worker (CPU only) is placed as a gang and runs."""
    wid = ctx.create("dist", LONG_LIVED, extra=GANG, kind=DISTRIBUTED)
    ctx.reach(wid, "Running")
    ctx.act(DISTRIBUTED.delete, wid)
    ctx.reach(wid, GONE)


def inference_updates(ctx: ScenarioContext) -> None:
    """An inference's PATCH rolls its new spec out through Updating, then it serves again (Running)."""
    assert INFERENCES.update is not None
    wid = ctx.create("inf", LONG_LIVED, extra=SERVING, kind=INFERENCES)
    ctx.reach(wid, "Running")
    response = ctx.client.call(INFERENCES.update, wid, body={"spec": {"args": "3599", **SERVING}})
    expected = ctx.client.contract.operation(INFERENCES.update).success_status
    answer: Any = json_body(response)
    shown = answer.get("actualPhase") if isinstance(answer, dict) else None
    ctx.step(f"update -> {response.status_code}, {shown}")
    if response.status_code != expected:
        raise ScenarioFailed(f"{INFERENCES.update} answered {response.status_code}, expected {expected}")
    # The PATCH answer may already show the rollout; else the next reads must (a poll may still miss a
    # short one on a fast cluster, so the workload's history is the last witness where it is documented).
    seen = shown == "Updating" or ctx.reach(wid, "Updating", "Running") == "Updating"
    if not seen and not _history_shows(ctx, wid, "Updating"):
        raise ScenarioFailed("the PATCH was never seen Updating: not in its answer, a read or the history")
    ctx.reach(wid, "Running")
    ctx.act(INFERENCES.delete, wid)
    ctx.reach(wid, GONE)


def _history_shows(ctx: ScenarioContext, wid: str, phase: str) -> bool:
    if "get_workload_history" not in ctx.client.contract.offered:
        return False
    status, history = ctx.client.view(
        f"/api/v1/workloads/{wid}/history", label="GET /api/v1/workloads/{workloadId}/history"
    )
    records = history.get("records") if isinstance(history, dict) else None
    return status == 200 and isinstance(records, list) and phase in str(records)

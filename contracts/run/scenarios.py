"""Scripted lifecycle scenarios: the paths through a training's life that random fuzzing rarely walks.

Every request goes through Schemathesis (`Case.call` + `validate_response`), so all checks, ours and the
built-in ones, judge the scenario's answers too. Time is the fake's manual clock when there is one, the
wall clock otherwise.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from contracts import limits
from contracts.oracle.findings import Finding
from contracts.run.context import (
    AUTO_DELETION,
    FAILING,
    LONG_LIVED,
    SHORT_LIVED,
    WORKLOAD_VIEW,
    ScenarioContext,
)
from contracts.run.gang_scenario import ScenarioSkipped, distributed_gang_waits
from contracts.run.kind_scenarios import distributed_runs, inference_updates, needs, workspace_completes
from contracts.run.outcome import INCONCLUSIVE, ScenarioResult
from contracts.run.waiting import GONE, BudgetSpent, ScenarioFailed, ScenarioInconclusive
from contracts.specs import (
    DELETE_OPERATION,
    DISTRIBUTED,
    INFERENCES,
    RESUME_OPERATION,
    SUSPEND_OPERATION,
    VIEW_OPERATIONS,
    WORKSPACES,
)

# Seconds a GPU training held by the cluster is waited for before its scenario is skipped: GPU room is
# the one thing the default footprint does not need.
GPU_PATIENCE = 30.0


def lifecycle(ctx: ScenarioContext) -> None:
    """create -> Running -> suspend -> Stopped -> resume -> Running -> delete -> 404."""
    wid = ctx.create("life", LONG_LIVED)
    ctx.reach(wid, "Running")
    ctx.act(SUSPEND_OPERATION, wid)
    ctx.reach(wid, "Stopped")
    ctx.act(RESUME_OPERATION, wid)
    ctx.reach(wid, "Running")
    ctx.act(DELETE_OPERATION, wid)
    ctx.reach(wid, GONE)


def _gpus_held(ctx: ScenarioContext, wid: str) -> tuple[str, float | None]:
    """Where the devices the training holds are seen, and how many (None: the backend does not say)."""
    if ctx.control is not None:
        return "the snapshot", float(len(ctx.control.nodes_holding(wid)))
    status, workload = ctx.client.view(f"/api/v1/workloads/{wid}", label=WORKLOAD_VIEW)
    allocated = workload.get("allocatedResources") if isinstance(workload, dict) else None
    gpu = allocated.get("gpu") if isinstance(allocated, dict) else None
    if status != 200 or not isinstance(gpu, (int, float)) or isinstance(gpu, bool):
        return "the workloads API", None
    return "the workloads API", float(gpu)


def gpu_release(ctx: ScenarioContext) -> None:
    """A suspended training gives its GPU back: held while Running, released once Stopped (needs a GPU)."""
    wid = ctx.create("gpu", LONG_LIVED, compute=ctx.gpu_compute)
    ctx.reach(wid, "Running")
    where, held = _gpus_held(ctx, wid)
    ctx.act(SUSPEND_OPERATION, wid)
    ctx.reach(wid, "Stopped")
    _, still = _gpus_held(ctx, wid)
    if not held:
        ctx.step(f"GPU release not judged: {where} showed no GPU held while Running")
    elif still:
        raise ScenarioFailed(f"Stopped, but {where} still shows GPUs held ({still:g})")
    else:
        ctx.step(f"GPUs released ({where} showed {held:g} held while Running)")
    ctx.act(DELETE_OPERATION, wid)
    ctx.reach(wid, GONE)


def backoff(ctx: ScenarioContext) -> None:
    """A container that always fails is restarted backoffLimit times, then the training is Failed."""
    wid = ctx.create("fail", FAILING, extra={"backoffLimit": 1})
    ctx.reach(wid, "Failed")
    ctx.act(DELETE_OPERATION, wid)
    ctx.reach(wid, GONE)


def auto_deletion(ctx: ScenarioContext) -> None:
    """A finished training disappears autoDeletionTimeAfterCompletionSeconds after it Completed."""
    # Long enough for a poll backed off to its interval to see Completed before the training is gone.
    wid = ctx.create("auto", SHORT_LIVED, extra={"autoDeletionTimeAfterCompletionSeconds": AUTO_DELETION})
    ctx.reach(wid, "Completed")
    ctx.reach(wid, GONE)
    ctx.live.remove(wid)


def preemption(ctx: ScenarioContext) -> None:
    """A preempted training goes back through Pending (forced through the fake's control API)."""
    assert ctx.control is not None
    wid = ctx.create("evict", LONG_LIVED)
    ctx.reach(wid, "Running")
    ctx.control.force_outcome(wid, "Preempted")
    ctx.step("preempted through the control API")
    ctx.reach(wid, "Terminating", "Pending", "Initializing")
    ctx.reach(wid, "Running")
    ctx.act(DELETE_OPERATION, wid)
    ctx.reach(wid, GONE)


def _actions_on(ctx: ScenarioContext, wid: str, phase: str) -> None:
    """suspend and resume (each followed by a read the checks judge), then delete until gone."""
    for operation in (SUSPEND_OPERATION, RESUME_OPERATION):
        ctx.act(operation, wid)
        ctx.step(f"read in {phase} after {operation.split('_')[0]}: {ctx.client.phase(wid)}")
    ctx.act(DELETE_OPERATION, wid)
    ctx.reach(wid, GONE)


def every_phase(ctx: ScenarioContext) -> None:
    """suspend, resume and delete answer as documented, and take effect, on trainings in every phase."""
    wid = ctx.create("fresh", LONG_LIVED)
    _actions_on(ctx, wid, "its first phase")
    wid = ctx.create("running", LONG_LIVED)
    _actions_on(ctx, wid, ctx.reach(wid, "Running"))
    wid = ctx.create("stopped", LONG_LIVED)
    ctx.reach(wid, "Running")
    ctx.act(SUSPEND_OPERATION, wid)
    _actions_on(ctx, wid, ctx.reach(wid, "Stopped"))
    wid = ctx.create("done", SHORT_LIVED)
    _actions_on(ctx, wid, ctx.reach(wid, "Completed"))
    wid = ctx.create("failed", FAILING, extra={"backoffLimit": 1})
    _actions_on(ctx, wid, ctx.reach(wid, "Failed"))


def _listed(ctx: ScenarioContext, name: str, deleted: bool) -> tuple[list[str], int]:
    """Ids the workloads list shows under `name`, and what the count says, with `deleted` as given."""
    query = {"filterBy": f"name=={name}", **({"deleted": "true"} if deleted else {})}
    status, page = ctx.client.view("/api/v1/workloads", query)
    if status != 200 or not isinstance(page, dict) or not isinstance(page.get("workloads"), list):
        raise ScenarioFailed(f"GET /api/v1/workloads answered {status}: {str(page)[:200]}")
    ids = [str(item.get("id")) for item in page["workloads"] if isinstance(item, dict)]
    status, counted = ctx.client.view("/api/v1/workloads/count", query)
    if status != 200 or not isinstance(counted, dict) or not isinstance(counted.get("count"), int):
        raise ScenarioFailed(f"GET /api/v1/workloads/count answered {status}: {str(counted)[:200]}")
    if counted["count"] != len(ids):
        raise ScenarioFailed(
            f"GET /api/v1/workloads/count says {counted['count']} for {query}, the list has {len(ids)}"
        )
    return ids, counted["count"]


def views(ctx: ScenarioContext) -> None:
    """The workloads views agree with the training: its phase, list and count, deleted only under deleted=true."""
    wid = ctx.create("views", LONG_LIVED)
    ctx.reach(wid, "Running")
    before = ctx.client.phase(wid)
    status, workload = ctx.client.view(f"/api/v1/workloads/{wid}", label=WORKLOAD_VIEW)
    after = ctx.client.phase(wid)
    shown = workload.get("phase") if isinstance(workload, dict) else None
    if status != 200 or shown not in (before, after):
        raise ScenarioFailed(
            f"GET /api/v1/workloads/{{id}} answered {status} with phase {shown!r}; the training's "
            f"actualPhase was {before} and then {after}"
        )
    ctx.step(f"workload phase {shown} = actualPhase")
    name = ctx.names_by_id[wid]
    ids, count = _listed(ctx, name, deleted=False)
    if wid not in ids:
        raise ScenarioFailed(f"GET /api/v1/workloads?filterBy=name=={name} does not list the training")
    ctx.step(f"listed by name, count {count} = list length")
    ctx.act(DELETE_OPERATION, wid)
    ctx.reach(wid, GONE)
    if wid in _listed(ctx, name, deleted=False)[0]:
        raise ScenarioFailed("a deleted training is still listed without deleted=true")
    if wid not in _listed(ctx, name, deleted=True)[0]:
        raise ScenarioFailed("a deleted training is not listed under deleted=true")
    ctx.step("deleted: listed only under deleted=true")


@dataclass(frozen=True)
class Scenario:
    name: str
    run: Callable[[ScenarioContext], None]
    needs_control: bool = False
    # Operations the backend's contract must document besides the trainings API (another kind's).
    needs_operations: tuple[str, ...] = ()
    # Needs a GPU: skipped where the project has no GPU room, and skipped (not inconclusive) where the
    # cluster holds its training for long.
    needs_gpu: bool = False

    @property
    def title(self) -> str:
        return (self.run.__doc__ or self.name).strip().splitlines()[0]


SCENARIOS = (
    Scenario("lifecycle", lifecycle),
    Scenario("gpu-release", gpu_release, needs_gpu=True),
    Scenario("backoff", backoff),
    Scenario("auto-deletion", auto_deletion),
    Scenario("every-phase", every_phase),
    Scenario("views", views, needs_operations=VIEW_OPERATIONS),
    Scenario("preemption", preemption, needs_control=True),
    Scenario("workspace-completes", workspace_completes, needs_operations=needs(WORKSPACES)),
    Scenario("distributed-runs", distributed_runs, needs_operations=needs(DISTRIBUTED)),
    Scenario(
        "distributed-gang-waits", distributed_gang_waits, needs_operations=needs(DISTRIBUTED, "get_workload")
    ),
    Scenario("inference-updates", inference_updates, needs_operations=needs(INFERENCES, INFERENCES.update)),
)


def skipped(scenario: Scenario, reason: str) -> ScenarioResult:
    return ScenarioResult(scenario.name, scenario.title, "skipped", [f"skipped: {reason}"])


def run_scenario(scenario: Scenario, ctx: ScenarioContext) -> ScenarioResult:
    result = ScenarioResult(scenario.name, scenario.title, steps=ctx.steps)
    ctx.client.result = result
    if scenario.needs_control and ctx.control is None:
        result.outcome = "skipped"
        ctx.step("skipped: needs the fake's control API to force the outcome")
        return result
    missing = [op for op in scenario.needs_operations if op not in ctx.client.contract.offered]
    if missing:
        result.outcome = "skipped"
        ctx.step(f"skipped: the contract does not document {', '.join(missing)}")
        return result
    if ctx.no_room is not None and not scenario.needs_gpu:
        result.outcome, result.reason = INCONCLUSIVE, ctx.no_room
        ctx.step(f"not run: {ctx.no_room}")
        return result
    if scenario.needs_gpu and ctx.room is not None and ctx.room.gpu_room is False:
        result.outcome = "skipped"
        result.reason = (
            f"needs a GPU, and project {ctx.room.project} has no GPU room (its quota's limit is 0)"
        )
        ctx.step(f"skipped: {result.reason}")
        return result
    if scenario.needs_gpu:
        ctx.hold_patience = min(ctx.gpu_patience, ctx.hold_patience or ctx.gpu_patience)
    started = time.monotonic()
    try:
        scenario.run(ctx)
    except ScenarioInconclusive as held:
        if scenario.needs_gpu:
            result.outcome = "skipped"
            result.reason = f"needs a GPU, and the cluster has no GPU room for the project: {held.reason}"
        else:
            project = ctx.room.project if ctx.room is not None else ctx.placement.project_id
            result.outcome = INCONCLUSIVE
            result.reason = f"the cluster had no room for project {project} ({held.reason})"
        ctx.step(f"{result.outcome}: {held}")
    except ScenarioSkipped as unknown:  # nothing to judge on this backend: neither a pass nor a failure
        result.outcome, result.reason = "skipped", str(unknown)
        ctx.step(f"skipped: {unknown}")
    except limits.OutOfTime as spent:
        result.outcome = "skipped"
        result.reason = str(spent)
        ctx.step(f"stopped: {spent}")
    except (ScenarioFailed, limits.LimitExceeded) as failed:
        result.findings.append(
            Finding(
                check=f"scenario:{scenario.name}",
                operation="(scenario)",
                title=f"Lifecycle scenario '{scenario.name}' failed",
                message=str(failed),
                source=f"scenario {scenario.name}",
                curl=ctx.client.last_curl,
            )
        )
        ctx.step(f"failed: {failed}")
    except BudgetSpent as spent:
        result.outcome = "skipped"
        ctx.step(f"stopped: {spent}")
    finally:
        ctx.release()
        result.seconds = time.monotonic() - started
    if result.findings:
        result.outcome = "failed"
    return result

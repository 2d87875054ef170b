"""A distributed training whose gang cannot fit waits whole: Pending with the scheduler's reason, holding
no device, until it is deleted.

How big a gang cannot fit is measured, never guessed:

- the project's quota, read through the Run:ai org look-up (`GET /api/v1/org-unit/projects/{id}`): a
  node pool whose GPU limit is finite takes a gang of one-GPU pods, one more than the limit allows;
- else, on our fake, its control API's snapshot: a gang of one-GPU pods, one more than the node pool's
  GPUs in all (the fake's quotas are open, its cluster is not);
- else the room is unknown (a real deployment whose limits are open or hidden): the scenario is skipped
  with that reason, as neither a pass nor a failure.

What the gang does is judged through the Run:ai API only: the workloads API's workload (phase, the
reason it is held, `allocatedResources`, `runningPods`) and its pods (none placed, none holding a GPU).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from contracts.run.capacity import PROJECTS, UNLIMITED, hold_reason
from contracts.run.context import LONG_LIVED, WORKLOAD_VIEW, ScenarioContext
from contracts.run.waiting import GONE, ScenarioFailed, VirtualTime
from contracts.specs import DISTRIBUTED

# How long the gang is watched once Pending: virtual seconds on the fake's manual clock (free), wall
# seconds on a live backend (short: the default run must not grow by more than that).
HOLD_VIRTUAL = 60
HOLD_WALL = 2.0
PODS_VIEW = "GET /api/v1/workloads/{workloadId}/pods"


class ScenarioSkipped(Exception):
    """The scenario cannot be judged on this backend (its room is unknown): skipped, with the reason."""


@dataclass(frozen=True)
class GangSize:
    """A gang bigger than the room: `workers` one-GPU workers beside a one-GPU master, in `pool`."""

    workers: int
    pool: str | None
    why: str


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def size_from_project(project: Any) -> GangSize | None:
    """A gang over the first node pool's finite GPU limit in an org look-up's answer (None: no finite
    limit; -1 is Run:ai's 'unlimited')."""
    resources = project.get("resources") if isinstance(project, dict) else None
    for resource in resources if isinstance(resources, list) else []:
        if not isinstance(resource, dict) or not isinstance(resource.get("gpu"), dict):
            continue
        limit = _number(resource["gpu"].get("limit"))
        if limit is None or limit == UNLIMITED or limit < 0:
            continue
        pool = (
            resource.get("nodePool", {}).get("name") if isinstance(resource.get("nodePool"), dict) else None
        )
        workers = max(1, math.floor(limit))  # with the master: floor(limit) + 1 GPUs, over the limit
        where = f"node pool {pool}" if pool else "its node pool"
        return GangSize(
            workers, str(pool) if pool else None, f"the project's GPU limit in {where} is {limit:g}"
        )
    return None


def size_from_snapshot(snapshot: Any) -> GangSize | None:
    """A gang over the biggest node pool's GPUs in all, from the fake's snapshot (None: no GPUs)."""
    totals: dict[str, int] = {}
    nodes = snapshot.get("nodes") if isinstance(snapshot, dict) else None
    for node in nodes if isinstance(nodes, list) else []:
        gpus = _number(node.get("gpus")) if isinstance(node, dict) else None
        if gpus:
            pool = str(node.get("pool"))
            totals[pool] = totals.get(pool, 0) + int(gpus)
    if not totals:
        return None
    pool, gpus = max(sorted(totals.items()), key=lambda item: item[1])
    return GangSize(gpus, pool, f"node pool {pool} has {gpus} GPUs in all (the fake's snapshot)")


def gang_size(ctx: ScenarioContext) -> GangSize:
    project_id = ctx.placement.project_id
    status, project = ctx.client.view(f"{PROJECTS}/{project_id}", label=f"GET {PROJECTS}/{{projectId}}")
    size = size_from_project(project) if status == 200 else None
    if size is None and ctx.control is not None:
        size = size_from_snapshot(ctx.control.snapshot())
    if size is None:
        shown = "shows no finite GPU limit" if status == 200 else f"could not be read ({status})"
        raise ScenarioSkipped(
            f"room unknown: project {project_id}'s quota {shown}, so no gang size is sure not to fit"
        )
    return size


def distributed_gang_waits(ctx: ScenarioContext) -> None:
    """A distributed training whose gang cannot fit stays Pending with a reason and holds no device."""
    size = gang_size(ctx)
    ctx.step(f"room: {size.why}; asking a master and {size.workers} workers of one GPU each")
    extra: dict[str, Any] = {"distributedFramework": "PyTorch", "numWorkers": size.workers}
    if size.pool is not None:
        extra["nodePools"] = [size.pool]
    compute = {**ctx.compute, "gpuDevicesRequest": 1}
    wid = ctx.create("gang", LONG_LIVED, extra=extra, compute=compute, kind=DISTRIBUTED)
    ctx.reach(wid, "Pending")
    if isinstance(ctx.waiting, VirtualTime):
        ctx.waiting.control.advance(HOLD_VIRTUAL)
        ctx.step(f"{HOLD_VIRTUAL} virtual seconds later")
    else:
        time.sleep(HOLD_WALL)
        ctx.step(f"{HOLD_WALL:g} s later")
    _judge_held(ctx, wid)
    ctx.act(DISTRIBUTED.delete, wid)
    ctx.reach(wid, GONE)


def _judge_held(ctx: ScenarioContext, wid: str) -> None:
    status, workload = ctx.client.view(f"/api/v1/workloads/{wid}", label=WORKLOAD_VIEW)
    if status != 200 or not isinstance(workload, dict):
        raise ScenarioFailed(f"the workloads API answered {status} for the gang")
    phase, reason = workload.get("phase"), hold_reason(workload)
    ctx.step(f"workload: {phase}, held because: {reason}")
    if phase != "Pending":
        raise ScenarioFailed(f"a gang that cannot fit is {phase}, not Pending")
    if not reason:
        raise ScenarioFailed(
            "a gang held Pending says no reason (no PodScheduled condition, no phaseMessage)"
        )
    allocated = workload.get("allocatedResources")
    gpus = _number(allocated.get("gpu")) if isinstance(allocated, dict) else None
    if gpus or workload.get("runningPods"):
        raise ScenarioFailed(
            f"a Pending gang holds {gpus} GPUs and {workload.get('runningPods')} running pods"
        )
    status, answer = ctx.client.view(f"/api/v1/workloads/{wid}/pods", label=PODS_VIEW)
    pods = answer.get("pods") if isinstance(answer, dict) else None
    if status != 200 or not isinstance(pods, list):
        ctx.step(f"pods view answered {status}: not judged")
        return
    placed = [p.get("name") for p in pods if isinstance(p, dict) and (p.get("nodeName") or _pod_gpus(p))]
    ctx.step(f"pods: {len(pods)}, placed or holding a GPU: {len(placed)}")
    if placed:
        raise ScenarioFailed(f"pods of a Pending gang are placed or hold GPUs: {placed}")


def _pod_gpus(pod: dict[str, Any]) -> float:
    allocated = pod.get("allocatedResources")
    return (_number(allocated.get("gpu")) if isinstance(allocated, dict) else None) or 0.0

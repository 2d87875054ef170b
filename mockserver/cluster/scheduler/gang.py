"""Gang scheduling (docs/scheduler.md §4a): the pods of a gang start together or not at all.

A gang is a job with `min_pods` (KAI's pod group `minMember`; a distributed training's master and its
minimum of workers). Allocate places the gang's first `min_pods` pods as one statement: each pod is
charged to its queue and bound to a node in turn, so that the quota and the nodes see the gang's earlier
pods; the first pod that meets a quota problem or finds no node undoes every placement made (`unbind`,
the exact inverse), and the gang waits with KAI's reason. Pods beyond the minimum (the elastic workers of
a PyTorch job) are then placed one by one like any pod. Reclaim and preempt make room for a gang as they
do for a pod (evictions.py), weighing the gang's whole request. The scheduler evicts a gang whole once fewer than
its minimum run (`Scheduler._evictions`, KAI's stale-gang eviction without its grace period).
"""

from __future__ import annotations

from mockserver.cluster.reasons import Reason
from mockserver.cluster.scheduler import messages
from mockserver.cluster.scheduler.session import Session
from mockserver.cluster.scheduler.state import ClusterState, PodRecord, Shape
from mockserver.cluster.scheduler.vector import ZERO, ResourceVector


def satisfied(record: PodRecord) -> bool:
    """True when the pod is not in a gang, or its gang already runs its minimum (an elastic extra pod)."""
    gang = record.gang
    if gang is None:
        return True
    return sum(1 for r in gang if r.pods is not None) >= record.job.min_pods


def shapes(record: PodRecord) -> list[Shape]:
    """The shapes a gang's pods wait in (two when it has a lead pod)."""
    gang = record.gang or [record]
    return list({id(r.shape): r.shape for r in gang}.values())


def needed(record: PodRecord) -> list[PodRecord]:
    """The waiting pods that would complete the gang's minimum, in pod order (the lead first)."""
    assert record.gang is not None
    waiting = [r for r in record.gang if r.pods is None]
    return waiting[: record.job.min_pods - (len(record.gang) - len(waiting))]


def gang_request(record: PodRecord, pool: str) -> ResourceVector:
    """What the gang's minimum asks of its queue in `pool`: quota checks of reclaim and preempt weigh the
    whole gang, as KAI weighs a pod group."""
    total = ZERO
    for member in needed(record):
        total = total.plus(member.shape.requests[pool])
    return total


def try_gang(state: ClusterState, record: PodRecord, pool: str) -> tuple[list[PodRecord], Reason | None]:
    """Charge and bind the gang's minimum pod by pod (a statement); at the first pod that meets a quota
    problem or finds no node, undo every placement made. Returns the pods placed (all of the minimum, or
    none) and, when none, the cause and how many had fitted before it."""
    placed: list[PodRecord] = []
    preemptible = record.job.preemptible
    for member in needed(record):
        cause = state.queue(member, pool).capacity_problem(member.shape.requests[pool], preemptible)
        pods = None if cause is not None else state.try_place(member, pool)
        if pods is None:
            cause = cause or state.no_fit_reason(member, pool)
            found = len(placed)
            for done in reversed(placed):  # the statement is discarded: the gang holds nothing
                state.unbind(done)
            return [], messages.gang_waiting(found, record.job.min_pods, cause)
        state.commit(member, pool, pods)
        placed.append(member)
    return placed, None


def place_gang(session: Session, record: PodRecord, pool: str) -> Reason | None:
    """Place the minimum of `record`'s gang in `pool` all at once, or nothing: None when placed, else why
    the gang waits."""
    placed, reason = try_gang(session.state, record, pool)
    if reason is not None:
        return reason
    started(session, placed)
    return None


def started(session: Session, placed: list[PodRecord]) -> None:
    """Record the gang's pods, already charged and bound, as started in this cycle."""
    for member in placed:
        session.started.append(member)
        session.fresh.add(member.id)

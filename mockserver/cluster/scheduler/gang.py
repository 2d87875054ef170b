"""Gang scheduling (docs/scheduler.md §4a): the pods of a gang start together or not at all.

A gang is a job with `min_pods` (KAI's pod group `minMember`; a distributed training's master and its
minimum of workers). Allocate places the gang's first `min_pods` pods as one statement: each pod is
charged to its queue and bound to a node in turn, so that the quota and the nodes see the gang's earlier
pods; the first pod that meets a quota problem or finds no node undoes every placement made (`unbind`,
the exact inverse), and the gang waits with KAI's reason. Pods beyond the minimum (the elastic workers of
a PyTorch job) are then placed one by one like any pod. The scheduler evicts a gang whole once fewer than
its minimum run (`Scheduler._evictions`, KAI's stale-gang eviction without its grace period).
"""

from __future__ import annotations

from mockserver.cluster.reasons import Reason
from mockserver.cluster.scheduler import messages
from mockserver.cluster.scheduler.session import Session
from mockserver.cluster.scheduler.state import PodRecord, Shape


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


def place_gang(session: Session, record: PodRecord, pool: str) -> Reason | None:
    """Place the minimum of `record`'s gang in `pool` all at once, or nothing: None when placed, else why
    the gang waits."""
    state = session.state
    job = record.job
    assert record.gang is not None
    waiting = [r for r in record.gang if r.pods is None]  # in pod order: the lead first
    need = job.min_pods - (len(record.gang) - len(waiting))
    placed: list[PodRecord] = []
    cause: str | None = None
    for member in waiting[:need]:
        cause = state.queue(member, pool).capacity_problem(member.shape.requests[pool], job.preemptible)
        if cause is not None:
            break
        pods = state.try_place(member, pool)
        if pods is None:
            cause = state.no_fit_reason(member, pool)
            break
        state.commit(member, pool, pods)
        placed.append(member)
    if cause is not None or len(placed) < need:
        for member in reversed(placed):  # the statement is discarded: nothing of the gang holds anything
            state.unbind(member)
        return messages.gang_waiting(len(placed), job.min_pods, cause or "")
    for member in placed:
        session.started.append(member)
        session.fresh.add(member.id)
    return None

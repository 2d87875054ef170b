"""Consolidation: make room for a waiting pod by moving running preemptible pods to other nodes
(docs/scheduler.md §2a; KAI's `pkg/scheduler/actions/consolidation/consolidation.go`).

It runs between allocate and reclaim, for pods that allocate could not place although their pool has
enough idle GPUs in total: the GPUs are spread over nodes (fragmented). Candidates are taken one at a time
(lowest priority, newest first) off the nodes the pod could use; after each, the pod is tried, and if it
fits, every candidate taken so far is put back: where it was if that is still free, else on another node of
its pool. Only when every candidate finds a place (KAI's `allPodsReallocated`: no victim left releasing)
is the pod started and the candidates that changed node reported as moved; otherwise everything is undone.
Nobody loses a place, so fair share and quotas are not consulted beyond the pod's own capacity check.
"""

from __future__ import annotations

from mockserver.cluster.scheduler import messages
from mockserver.cluster.scheduler.evictions import Saved
from mockserver.cluster.scheduler.gang import satisfied
from mockserver.cluster.scheduler.nodes import PodPlacement
from mockserver.cluster.scheduler.ordering import victim_key
from mockserver.cluster.scheduler.session import Session
from mockserver.cluster.scheduler.state import ClusterState, PodRecord
from mockserver.cluster.scheduler.walk import each_attempt

# How many running pods one attempt may take off their nodes (our choice, to bound a cycle's cost; KAI's
# `maxNumberConsolidationPreemptees` plays this part, unlimited by default).
MAX_CANDIDATES = 16


def consolidate(session: Session) -> None:
    state = session.state

    def move_for(record: PodRecord, pool: str) -> bool:
        found = _attempt(session, record, pool)
        if found is None:
            return False
        pods, moved = found
        for victim in moved:
            session.move(victim, messages.consolidated(victim.job.id))
        session.start(record, pool, pods)
        return True

    each_attempt(session, lambda record, pool: _eligible(state, record, pool), move_for)


def _eligible(state: ClusterState, record: PodRecord, pool: str) -> bool:
    """A preemptible single pod of whole GPUs (KAI consolidates only for preemptible jobs), within its
    quota, whose pool has enough idle GPUs on the nodes it may use (KAI's `IsEnoughGPUsAllocatableForJob`).
    Gangs and fractional or MIG requests are not consolidated for (our choice)."""
    pod = record.pod
    if not record.job.preemptible or not satisfied(record) or record.gang is not None:
        return False
    if pod.gpus < 1 or pod.is_shared or pod.mig_profile is not None:
        return False
    if state.queue(record, pool).capacity_problem(record.shape.requests[pool], True) is not None:
        return False
    idle = sum(n.idle for n in state.pools[pool].nodes if n.blocker(pod, record.job.node_type) is None)
    return idle >= pod.gpus


def _candidates(session: Session, record: PodRecord, pool: str) -> list[PodRecord]:
    """Running preemptible pods on GPU nodes the pod may use, not started in this cycle, not its own job's."""
    found: list[PodRecord] = []
    node_type = record.job.node_type
    for (_, queue_pool), queue in session.state.projects.items():
        if queue_pool != pool:
            continue
        for running in queue.running.values():
            if (
                not running.job.preemptible
                or running.id in session.fresh
                or running.pipelined
                or running.job.id == record.job.id
            ):
                continue
            assert running.pods is not None
            node = running.pods[0].node
            if node.node.gpus and not node.node.is_mig and (node_type is None or node.node_type == node_type):
                found.append(running)
    found.sort(key=victim_key)
    return found[:MAX_CANDIDATES]


def _attempt(
    session: Session, record: PodRecord, pool: str
) -> tuple[list[PodPlacement], list[PodRecord]] | None:
    state = session.state
    taken: list[tuple[PodRecord, Saved]] = []
    for candidate in _candidates(session, record, pool):
        taken.append((candidate, state.unbind(candidate)))
        pods = state.try_place(record, pool)
        if pods is None:
            continue
        moved = _put_back(state, taken)
        if moved is not None:
            return pods, moved
        state.release_pods(record, pods)
    for candidate, saved in reversed(taken):
        state.bind(candidate, *saved)
    return None


def _put_back(state: ClusterState, taken: list[tuple[PodRecord, Saved]]) -> list[PodRecord] | None:
    """Place every candidate again, last taken first: where it was if that is free, else on another node
    of its pool. Returns the pods that changed node, or None (and every candidate unbound) if one fits
    nowhere."""
    placed: list[PodRecord] = []
    moved: list[PodRecord] = []
    for candidate, (pool, pods) in reversed(taken):
        if state.bind_if_room(candidate, pool, pods):
            placed.append(candidate)
            continue
        elsewhere = state.try_place(candidate, pool)
        if elsewhere is None:
            for done in reversed(placed):
                state.unbind(done)
            return None
        state.commit(candidate, pool, elsewhere)
        placed.append(candidate)
        moved.append(candidate)
    moved.reverse()  # in the order they were taken
    return moved

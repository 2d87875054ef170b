"""Making room by eviction, shared by reclaim and preempt: evict candidates one at a time, in the order
given, until the pod fits; then give back every victim whose place is still free."""

from __future__ import annotations

from collections.abc import Callable

from mockserver.cluster.scheduler.gang import satisfied
from mockserver.cluster.scheduler.nodes import PodPlacement
from mockserver.cluster.scheduler.ordering import QueueOrder
from mockserver.cluster.scheduler.session import Session
from mockserver.cluster.scheduler.signatures import FailedSignatures
from mockserver.cluster.scheduler.state import ClusterState, PodRecord

Victim = tuple[PodRecord, str]
Saved = tuple[str, list[PodPlacement]]


def evicting_action(
    session: Session,
    eligible: Callable[[PodRecord, str], bool],
    attempt: Callable[[PodRecord, str], Room | None],
) -> None:
    """Run reclaim or preempt: waiting pods in queue order, pools in preference order. A pod is attempted
    only if `eligible`; a successful attempt evicts its victims and starts the pod at once."""
    session.new_action()
    failed: dict[str, FailedSignatures] = {}
    for pool, leaves in session.rounds():
        signatures = failed.setdefault(pool, FailedSignatures())

        def skip(record: PodRecord, pool: str = pool, signatures: FailedSignatures = signatures) -> bool:
            shape = record.shape
            dominated = signatures.reason_if_dominated(shape.queue_signature, shape.size) is not None
            # A gang below its minimum takes no room by eviction (docs/scheduler.md §8): allocate only.
            return dominated or not satisfied(record) or not eligible(record, pool)

        order = QueueOrder(pool, leaves, skip)
        for record in order:
            room = attempt(record, pool)
            if room is None:
                signatures.add(record.shape.queue_signature, record.shape.size, "")
                continue
            for victim, message in room.victims:
                session.evict(victim, message)
            session.start(record, pool, room.pods)
            # Victims changed what other queues hold, and so their order.
            order.invalidate()


class Room:
    """A found placement and the victims it needs; `undo()` puts everything back as it was."""

    def __init__(
        self,
        state: ClusterState,
        record: PodRecord,
        pods: list[PodPlacement],
        victims: list[tuple[PodRecord, str, Saved]],
    ) -> None:
        self.state = state
        self.record = record
        self.pods = pods
        self._victims = victims

    @property
    def victims(self) -> list[Victim]:
        return [(victim, message) for victim, message, _ in self._victims]

    def undo(self) -> None:
        self.state.release_pods(self.record, self.pods)
        _restore(self.state, self._victims)


def make_room(
    state: ClusterState, record: PodRecord, pool: str, next_victim: Callable[[], Victim | None]
) -> Room | None:
    queue = state.queue(record, pool)
    request = record.shape.requests[pool]
    taken: list[tuple[PodRecord, str, Saved]] = []
    while (victim := next_victim()) is not None:
        taken.append((*victim, state.unbind(victim[0])))
        # Victims of the pod's own queue lower what it holds, which can bring it back under its limit.
        if queue.capacity_problem(request, record.job.preemptible) is not None:
            continue
        pods = state.try_place(record, pool)
        if pods is not None:
            return Room(state, record, pods, _unneeded_back(state, record, pool, taken))
    _restore(state, taken)
    return None


def _unneeded_back(
    state: ClusterState,
    record: PodRecord,
    pool: str,
    taken: list[tuple[PodRecord, str, Saved]],
) -> list[tuple[PodRecord, str, Saved]]:
    """Victims whose resources the pod left free go back (last evicted first), unless the pod's quota
    check needed them gone."""
    queue = state.queue(record, pool)
    needed: list[tuple[PodRecord, str, Saved]] = []
    for victim, message, saved in reversed(taken):
        if not state.bind_if_room(victim, *saved):
            needed.append((victim, message, saved))
        elif queue.capacity_problem(record.shape.requests[pool], record.job.preemptible) is not None:
            state.unbind(victim)
            needed.append((victim, message, saved))
    needed.reverse()
    return needed


def _restore(state: ClusterState, taken: list[tuple[PodRecord, str, Saved]]) -> None:
    for victim, _, saved in reversed(taken):
        state.bind(victim, *saved)

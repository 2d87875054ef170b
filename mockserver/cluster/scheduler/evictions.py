"""Making room by eviction, shared by reclaim and preempt: evict candidates one at a time, in the order
given, until the pod fits — or, for a gang below its minimum, until the gang's minimum fits all at once;
then give back every victim whose place is still free."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from mockserver.cluster.scheduler.gang import gang_request, needed, satisfied, started, try_gang
from mockserver.cluster.scheduler.nodes import PodPlacement
from mockserver.cluster.scheduler.session import Session
from mockserver.cluster.scheduler.state import ClusterState, PodRecord
from mockserver.cluster.scheduler.vector import ResourceVector
from mockserver.cluster.scheduler.walk import each_attempt

Victim = tuple[PodRecord, str]
Saved = tuple[str, list[PodPlacement]]


def evicting_action(
    session: Session,
    eligible: Callable[[PodRecord, str], bool],
    attempt: Callable[[PodRecord, str], Room | None],
) -> None:
    """Run reclaim or preempt: waiting pods in queue order, pools in preference order. A pod is attempted
    only if `eligible`; a successful attempt evicts its victims and starts the pod at once."""

    def worth_trying(record: PodRecord, pool: str) -> bool:
        return _could_ever_fit(session.state, record, pool) and eligible(record, pool)

    def evict_for(record: PodRecord, pool: str) -> bool:
        room = attempt(record, pool)
        if room is None:
            return False
        for victim, message in room.victims:
            session.evict(victim, message)
        if room.victims and session.pipelining:
            # KAI binds the pod only once its victims have terminated: until then it is pipelined.
            victims = list(dict.fromkeys(victim.job.id for victim, _ in room.victims))
            session.pipeline(room.gang or [record], pool, room.pods, victims)
        elif room.gang:
            started(session, room.gang)  # already charged and bound
        else:
            session.start(record, pool, room.pods)
        return True

    each_attempt(session, worth_trying, evict_for)


def _could_ever_fit(state: ClusterState, record: PodRecord, pool: str) -> bool:
    """Whether evictions could ever place the pod (or its gang's minimum) in `pool`. A pod no node could
    take even empty (a node type no node has, more CPU than any node) would have every candidate evicted
    and put back in every cycle, for nothing."""
    members = needed(record) if record.gang is not None and not satisfied(record) else [record]
    index = state.pools[pool]
    return all(index.could_ever_take(member.pod, member.job.node_type) for member in members)


def request_of(record: PodRecord, pool: str) -> ResourceVector:
    """What placing `record` asks of its queue: its pod's request, or a waiting gang's whole minimum."""
    if record.gang is not None and not satisfied(record):
        return gang_request(record, pool)
    return record.shape.requests[pool]


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
        # A gang's pods placed together (charged and bound); empty for a single pod.
        self.gang: list[PodRecord] = []

    @property
    def victims(self) -> list[Victim]:
        return [(victim, message) for victim, message, _ in self._victims]

    @contextmanager
    def gang_lifted(self) -> Iterator[None]:
        """The state as a single pod's room leaves it (the preemptor not yet charged): a placed gang is
        lifted off for the block, then put back exactly."""
        saved = [(member, self.state.unbind(member)) for member in reversed(self.gang)]
        try:
            yield
        finally:
            for member, (where, pods) in reversed(saved):
                self.state.bind(member, where, pods)

    def undo(self) -> None:
        for member in reversed(self.gang):
            self.state.unbind(member)
        self.state.release_pods(self.record, self.pods)
        _restore(self.state, self._victims)


def make_room(
    state: ClusterState, record: PodRecord, pool: str, next_victim: Callable[[], Victim | None]
) -> Room | None:
    if record.gang is not None and not satisfied(record):
        return _make_gang_room(state, record, pool, next_victim)
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


def _make_gang_room(
    state: ClusterState, record: PodRecord, pool: str, next_victim: Callable[[], Victim | None]
) -> Room | None:
    """Evict until the gang's minimum fits all at once (a statement per try, undone when it fails); then
    give back each victim whose place is free, unless the gang's quota check then fails."""
    taken: list[tuple[PodRecord, str, Saved]] = []
    while (victim := next_victim()) is not None:
        taken.append((*victim, state.unbind(victim[0])))
        placed, _ = try_gang(state, record, pool)
        if not placed:
            continue
        needed: list[tuple[PodRecord, str, Saved]] = []
        for victim_record, message, saved in reversed(taken):
            if not state.bind_if_room(victim_record, *saved):
                needed.append((victim_record, message, saved))
            elif not _gang_within_quota(state, record, pool, placed):
                state.unbind(victim_record)
                needed.append((victim_record, message, saved))
        needed.reverse()
        room = Room(state, record, [], needed)
        room.gang = placed
        return room
    _restore(state, taken)
    return None


def _gang_within_quota(state: ClusterState, record: PodRecord, pool: str, placed: list[PodRecord]) -> bool:
    """Whether the placed gang still passes its queue's quota check with what is bound now: lift it off,
    ask, and put it back exactly (bind and unbind are inverses)."""
    saved = [(member, state.unbind(member)) for member in reversed(placed)]
    problem = state.queue(record, pool).capacity_problem(gang_request(record, pool), record.job.preemptible)
    for member, (where, pods) in reversed(saved):
        state.bind(member, where, pods)
    return problem is None


def _restore(state: ClusterState, taken: list[tuple[PodRecord, str, Saved]]) -> None:
    for victim, _, saved in reversed(taken):
        state.bind(victim, *saved)

"""Reclaim: a queue under its fair share takes back resources from other projects' preemptible pods
(docs/scheduler.md §2).

A victim's project must be over its deserved quota in some resource, and the victim's queue at the level
where the two meet (the projects, or their departments) must be above max(deserved, fair share), or above
deserved while the reclaimer is still within its own deserved quota. Checks happen before each victim is
subtracted, so one victim may take a queue below its threshold by less than one job. A last saturation
check stops two queues from taking turns reclaiming from each other.
"""

from __future__ import annotations

from collections.abc import Iterator

from mockserver.cluster.scheduler import messages
from mockserver.cluster.scheduler.evictions import Room, Victim, evicting_action, make_room, request_of
from mockserver.cluster.scheduler.ordering import victim_queue_key
from mockserver.cluster.scheduler.queues import QueueState
from mockserver.cluster.scheduler.session import Session
from mockserver.cluster.scheduler.state import PodRecord
from mockserver.cluster.scheduler.vector import EPSILON, GPU, INDEXES, ResourceVector


def reclaim(session: Session) -> None:
    state = session.state

    def eligible(record: PodRecord, pool: str) -> bool:
        return _may_reclaim(state.queue(record, pool), request_of(record, pool), record.job.preemptible)

    def attempt(record: PodRecord, pool: str) -> Room | None:
        request = request_of(record, pool)  # taken while the gang waits: a placed gang asks nothing more
        room = make_room(state, record, pool, _Victims(session, record, pool).next)
        if room is None:
            return None
        with room.gang_lifted():
            saturates = _saturates(state.queue(record, pool), request, room)
        if saturates:
            room.undo()
            return None
        return room

    evicting_action(session, eligible, attempt)


def _may_reclaim(queue: QueueState, request: ResourceVector, preemptible: bool) -> bool:
    """KAI reclaims only for a queue that stays within its fair share with the pod counted in."""
    if not queue.allocated.plus(request).within(queue.fair_share):
        return False
    return preemptible or queue.allocated_np.plus(request).within(queue.deserved)


class _Victims:
    """Candidates from the most over-served queue first; a queue drops out once it may no longer lose jobs."""

    def __init__(self, session: Session, record: PodRecord, pool: str) -> None:
        self._record = record
        self._pool = pool
        self._reclaimer = session.state.queue(record, pool)
        self._request = request_of(record, pool)
        self._queues: dict[int, tuple[QueueState, Iterator[PodRecord]]] = {}
        self._heads: dict[int, PodRecord] = {}
        self._ranks: dict[int, _Rank] = {}
        for (_, queue_pool), queue in session.state.projects.items():
            if queue_pool != pool or queue is self._reclaimer:
                continue
            stream = session.victims_in(queue)
            head = next(stream, None)
            if head is not None:
                self._queues[id(queue)] = (queue, stream)
                self._heads[id(queue)] = head
                self._ranks[id(queue)] = _rank(queue)
        self._last: QueueState | None = None

    def next(self) -> Victim | None:
        if self._last is not None:
            # The last victim changed what its queue and its department hold, so their siblings' rank.
            for key in self._ranks:
                queue = self._queues[key][0]
                if queue.parent is self._last.parent:
                    self._ranks[key] = _rank(queue)
            self._last = None
        while self._ranks:
            key = min(self._ranks, key=self._ranks.__getitem__)
            queue, stream = self._queues[key]
            if not self._may_lose(queue):
                del self._ranks[key]
                continue
            victim = self._heads[key]
            following = next(stream, None)
            if following is None:
                del self._ranks[key]
            else:
                self._heads[key] = following
            self._last = queue
            message = messages.reclaimed(
                self._record.job.id,
                queue.label,
                self._pool,
                queue.allocated[GPU],
                queue.deserved[GPU],
                queue.fair_share[GPU],
                queue.priority,
            )
            return victim, message
        return None

    def _may_lose(self, victim: QueueState) -> bool:
        if not victim.allocated.exceeds(victim.deserved):
            # Never from a project at or below its deserved quota, whatever its department holds.
            return False
        mine, theirs = _siblings(self._reclaimer, victim)
        if any(theirs.allocated[r] > theirs.allocatable_share(r) + EPSILON for r in INDEXES):
            return True
        return mine.allocated.plus(self._request).within(mine.deserved) and theirs.allocated.exceeds(
            theirs.deserved
        )


_QueueRank = tuple[bool, bool, int, float, int]
_Rank = tuple[_QueueRank | tuple[()], _QueueRank]


def _rank(queue: QueueState) -> _Rank:
    return (victim_queue_key(queue.parent) if queue.parent else (), victim_queue_key(queue))


def _siblings(reclaimer: QueueState, victim: QueueState) -> tuple[QueueState, QueueState]:
    """The two queues that compete directly: the projects in one department, else their departments."""
    if reclaimer.parent is victim.parent or reclaimer.parent is None or victim.parent is None:
        return reclaimer, victim
    return reclaimer.parent, victim.parent


def _saturates(reclaimer: QueueState, request: ResourceVector, room: Room) -> bool:
    """True if the reclaimer would end up relatively fuller than a queue it takes from."""
    state = room.state
    touched = [state.queue(victim, reclaimer.pool) for victim, _ in room.victims]
    levels: list[tuple[QueueState, list[QueueState]]] = [
        (reclaimer, [q for q in touched if q.parent is reclaimer.parent]),
    ]
    if reclaimer.parent is not None:
        levels.append(
            (reclaimer.parent, [q.parent for q in touched if q.parent and q.parent is not reclaimer.parent])
        )
    for mine, others in levels:
        for other in {id(q): q for q in others}.values():
            for r in INDEXES:
                if request[r] <= 0 or other.fair_share[r] <= 0:
                    continue
                ratio = _ratio(mine.allocated[r] + request[r], mine.fair_share[r])
                if ratio > 1 + EPSILON and ratio >= _ratio(other.allocated[r], other.fair_share[r]) - EPSILON:
                    return True
    return False


def _ratio(amount: float, share: float) -> float:
    if share <= EPSILON:
        return float("inf") if amount > EPSILON else 0.0
    return amount / share

"""Preempt: inside one project, a pod takes the place of preemptible pods of strictly lower priority
(docs/scheduler.md §2).

Fair share is not consulted; the project's limit still is, and a non-preemptible preemptor must fit in the
deserved quota.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain, takewhile

from mockserver.cluster.scheduler import messages
from mockserver.cluster.scheduler.evictions import Room, Victim, evicting_action, make_room, request_of
from mockserver.cluster.scheduler.session import Session
from mockserver.cluster.scheduler.state import PodRecord
from mockserver.cluster.scheduler.vector import ZERO


def preempt(session: Session) -> None:
    state = session.state

    def lower_priority(record: PodRecord, pool: str) -> Iterator[PodRecord]:
        priority = record.job.priority
        return takewhile(lambda v: v.job.priority < priority, session.victims_in(state.queue(record, pool)))

    def eligible(record: PodRecord, pool: str) -> bool:
        candidates = lower_priority(record, pool)
        first = next(candidates, None)
        return (
            first is not None
            and _np_within_deserved(record, pool, session)
            and _limit_leaves_room(record, pool, session, chain([first], candidates))
        )

    def attempt(record: PodRecord, pool: str) -> Room | None:
        candidates = lower_priority(record, pool)
        message = messages.preempted(record.job.id)  # one preemptor, one message for all its victims

        def next_victim() -> Victim | None:
            victim = next(candidates, None)
            return None if victim is None else (victim, message)

        return make_room(state, record, pool, next_victim)

    evicting_action(session, eligible, attempt)


def _np_within_deserved(record: PodRecord, pool: str, session: Session) -> bool:
    """Victims are preemptible, so they cannot make room in the deserved quota a non-preemptible job needs."""
    if record.job.preemptible:
        return True
    request = request_of(record, pool)
    return not any(
        q.allocated_np.plus(request).exceeds(q.deserved) for q in session.state.queue(record, pool).ancestry()
    )


def _limit_leaves_room(
    record: PodRecord, pool: str, session: Session, candidates: Iterable[PodRecord]
) -> bool:
    """Whether the project's limits could take the pod once every candidate is gone. Preempt's victims are
    the project's own pods, so evicting all of them is the most room the limits can get, and a simulation
    evicting fewer frees less: when even all of them are not enough, the attempt would evict and restore
    every candidate for nothing (on a full project, that is every pending pod of every cycle)."""
    freed = ZERO
    for victim in candidates:
        freed = freed.plus(victim.charge)
    # Counted as preemptible: the deserved-quota rule for non-preemptible pods is _np_within_deserved's.
    queue = session.state.queue(record, pool)
    return queue.capacity_problem(request_of(record, pool).minus(freed), True) is None

"""Preempt: inside one project, a pod takes the place of preemptible pods of strictly lower priority
(docs/scheduler.md §2).

Fair share is not consulted; the project's limit still is, and a non-preemptible preemptor must fit in the
deserved quota.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import takewhile

from mockserver.cluster.scheduler import messages
from mockserver.cluster.scheduler.evictions import Room, Victim, evicting_action, make_room, request_of
from mockserver.cluster.scheduler.session import Session
from mockserver.cluster.scheduler.state import PodRecord


def preempt(session: Session) -> None:
    state = session.state

    def lower_priority(record: PodRecord, pool: str) -> Iterator[PodRecord]:
        priority = record.job.priority
        return takewhile(lambda v: v.job.priority < priority, session.victims_in(state.queue(record, pool)))

    def eligible(record: PodRecord, pool: str) -> bool:
        return next(lower_priority(record, pool), None) is not None and _np_within_deserved(
            record, pool, session
        )

    def attempt(record: PodRecord, pool: str) -> Room | None:
        candidates = lower_priority(record, pool)

        def next_victim() -> Victim | None:
            victim = next(candidates, None)
            return None if victim is None else (victim, messages.preempted(record.job.id))

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

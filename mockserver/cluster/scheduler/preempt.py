"""Preempt: inside one project, a job takes the place of preemptible jobs of strictly lower priority (§2.6).

Fair share is not consulted; the project's limit still is, and a non-preemptible preemptor must fit in the
deserved quota.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import takewhile

from mockserver.cluster.scheduler import messages
from mockserver.cluster.scheduler.evictions import Victim, make_room
from mockserver.cluster.scheduler.ordering import QueueOrder
from mockserver.cluster.scheduler.queues import add, exceeds
from mockserver.cluster.scheduler.session import Session
from mockserver.cluster.scheduler.signatures import FailedSignatures
from mockserver.cluster.scheduler.state import JobRecord


def preempt(session: Session) -> None:
    state = session.state
    session.new_action()
    failed: dict[str, FailedSignatures] = {}
    for pool, waiting in session.rounds():
        signatures = failed.setdefault(pool, FailedSignatures())

        def skip(record: JobRecord, signatures: FailedSignatures = signatures) -> bool:
            return signatures.reason_if_dominated(record.job.project_id, record) is not None

        order = QueueOrder(pool, waiting, lambda r, pool=pool: state.queue(r, pool), skip)
        for record in order:
            queue = state.queue(record, pool)
            priority = record.job.priority
            lower = list(
                takewhile(lambda v, priority=priority: v.job.priority < priority, session.victims_in(queue))
            )
            if not lower or not _np_within_deserved(record, pool, session):
                continue
            candidates: Iterator[JobRecord] = iter(lower)

            def next_victim(
                candidates: Iterator[JobRecord] = candidates, by: str = record.job.id
            ) -> Victim | None:
                victim = next(candidates, None)
                return None if victim is None else (victim, messages.preempted(by))

            room = make_room(state, record, pool, next_victim)
            if room is None:
                signatures.add(record.job.project_id, record, "")
                continue
            for victim, message in room.victims:
                session.evict(victim, message)
            session.start(record, pool, room.pods)
            order.invalidate()


def _np_within_deserved(record: JobRecord, pool: str, session: Session) -> bool:
    """Victims are preemptible, so they cannot make room in the deserved quota a non-preemptible job needs."""
    if record.job.preemptible:
        return True
    request = record.requests[pool]
    return not any(
        exceeds(add(tuple(q.allocated_np), request), q.deserved)
        for q in session.state.queue(record, pool).ancestry()
    )

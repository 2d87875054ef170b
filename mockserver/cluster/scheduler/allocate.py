"""Allocate: place waiting jobs on free capacity, disturbing nobody (§2.3).

Work-conserving: fair share only orders the queues; the caps are limits and, for non-preemptible jobs,
deserved quotas.
"""

from __future__ import annotations

from mockserver.cluster.scheduler.ordering import QueueOrder
from mockserver.cluster.scheduler.session import Session
from mockserver.cluster.scheduler.signatures import FailedSignatures
from mockserver.cluster.scheduler.state import JobRecord


def allocate(session: Session) -> None:
    state = session.state
    failed: dict[str, FailedSignatures] = {}
    for pool, waiting in session.rounds():
        signatures = failed.setdefault(pool, FailedSignatures())

        def skip(record: JobRecord, pool: str = pool, signatures: FailedSignatures = signatures) -> bool:
            reason = signatures.reason_if_dominated(record.job.project_id, record)
            if reason is not None:
                record.reasons[pool] = reason
            return reason is not None

        for record in QueueOrder(pool, waiting, lambda r, pool=pool: state.queue(r, pool), skip):
            request = record.requests[pool]
            problem = state.queue(record, pool).capacity_problem(request, record.job.preemptible)
            if problem is None:
                pods = state.try_place(record, pool)
                if isinstance(pods, list):
                    session.start(record, pool, pods)
                    continue
                problem = pods
            record.reasons[pool] = problem
            signatures.add(record.job.project_id, record, problem)

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
    for pool, leaves in session.rounds():
        signatures = failed.setdefault(pool, FailedSignatures())

        def skip(record: JobRecord, pool: str = pool, signatures: FailedSignatures = signatures) -> bool:
            """Drop a job bound to fail, judging by what already failed in this action."""
            reason = signatures.reason_if_dominated(record.queue_signature, record.size)
            if reason is None:
                no_fit = signatures.reason_if_dominated(record.signature, record.size)
                if no_fit is not None:
                    # It fits nowhere in the pool; its own quota may be the nearer reason.
                    queue = state.queue(record, pool)
                    reason = queue.capacity_problem(record.requests[pool], record.job.preemptible) or no_fit
            if reason is not None:
                record.reasons[pool] = reason
            return reason is not None

        for record in QueueOrder(pool, leaves, skip):
            problem = state.queue(record, pool).capacity_problem(
                record.requests[pool], record.job.preemptible
            )
            if problem is None:
                pods = state.try_place(record, pool)
                if not isinstance(pods, int):
                    session.start(record, pool, pods)
                    continue
                problem = state.no_fit_reason(record, pool, pods)
                signatures.add(record.signature, record.size, problem)
            record.reasons[pool] = problem
            signatures.add(record.queue_signature, record.size, problem)

"""Allocate: place waiting pods on free capacity, disturbing nobody (docs/scheduler.md §2).

Work-conserving: fair share only orders the queues; the caps are limits and, for non-preemptible pods,
deserved quotas.
"""

from __future__ import annotations

from mockserver.cluster.scheduler.ordering import QueueOrder
from mockserver.cluster.scheduler.session import Session
from mockserver.cluster.scheduler.signatures import FailedSignatures
from mockserver.cluster.scheduler.state import PodRecord


def allocate(session: Session) -> None:
    state = session.state
    projects = state.projects
    failed: dict[str, FailedSignatures] = {}
    for pool, leaves in session.rounds():
        signatures = failed.setdefault(pool, FailedSignatures())

        def skip(record: PodRecord, pool: str = pool, signatures: FailedSignatures = signatures) -> bool:
            """Drop a shape bound to fail, judging by what already failed in this action."""
            shape = record.shape
            if not signatures.knows(shape.queue_signature) and not signatures.knows(shape.signature):
                return False  # the usual case while pods fit: nothing like it failed
            reason = signatures.reason_if_dominated(shape.queue_signature, shape.size)
            if reason is None:
                no_fit = signatures.reason_if_dominated(shape.signature, shape.size)
                if no_fit is not None:
                    # It fits nowhere in the pool; its own quota may be the nearer reason.
                    queue = state.queue(record, pool)
                    reason = queue.capacity_problem(shape.requests[pool], shape.preemptible) or no_fit
            if reason is not None:
                shape.reasons[pool] = reason
            return reason is not None

        for record in QueueOrder(pool, leaves, skip):
            shape = record.shape
            problem = projects[shape.project_id, pool].capacity_problem(
                shape.requests[pool], shape.preemptible
            )
            if problem is None:
                pods = state.try_place(record, pool)
                if pods is not None:
                    session.start(record, pool, pods)
                    continue
                problem = state.no_fit_reason(record, pool)
                signatures.add(shape.signature, shape.size, problem)
            shape.reasons[pool] = problem
            signatures.add(shape.queue_signature, shape.size, problem)

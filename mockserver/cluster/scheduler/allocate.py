"""Allocate: place waiting pods on free capacity, disturbing nobody (docs/scheduler.md §2).

Work-conserving: fair share only orders the queues; the caps are limits and, for non-preemptible pods,
deserved quotas. A gang's first pod to come up places the gang's minimum all at once or not at all
(gang.py); its other pods are then passed over as placed, or its shapes as failed.
"""

from __future__ import annotations

from mockserver.cluster.scheduler.gang import place_gang, satisfied, shapes
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
            if record.gang is not None and not satisfied(record):
                reason = place_gang(session, record, pool)
                if reason is not None:  # identical gangs of the queue would fail alike: passed over
                    for gang_shape in shapes(record):
                        gang_shape.reasons[pool] = reason
                        signatures.add(gang_shape.queue_signature, gang_shape.size, reason)
                continue
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

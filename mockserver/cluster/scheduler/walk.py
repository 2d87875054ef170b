"""One action's walk over the waiting pods that disturbs others to place them (consolidate, reclaim,
preempt): pools in preference order, pods in queue order, each tried once unless something like it
already failed in this action."""

from __future__ import annotations

from collections.abc import Callable

from mockserver.cluster.scheduler.gang import shapes
from mockserver.cluster.scheduler.ordering import QueueOrder
from mockserver.cluster.scheduler.session import Session
from mockserver.cluster.scheduler.signatures import FailedSignatures
from mockserver.cluster.scheduler.state import PodRecord


def each_attempt(
    session: Session,
    eligible: Callable[[PodRecord, str], bool],
    attempt: Callable[[PodRecord, str], bool],
) -> None:
    """Try every waiting pod that is `eligible` in its pool and not dominated by a failure of its queue in
    this action. `attempt` says whether it succeeded; a success changed what queues hold, and so their
    order; a failure marks the pod's shapes (a gang's two fail together) as failed in its queue."""
    session.new_action()
    failed: dict[str, FailedSignatures] = {}
    for pool, leaves in session.rounds():
        signatures = failed.setdefault(pool, FailedSignatures())

        def skip(record: PodRecord, pool: str = pool, signatures: FailedSignatures = signatures) -> bool:
            shape = record.shape
            dominated = signatures.reason_if_dominated(shape.queue_signature, shape.size) is not None
            return dominated or not eligible(record, pool)

        order = QueueOrder(pool, leaves, skip)
        for record in order:
            if attempt(record, pool):
                order.invalidate()
                continue
            for shape in shapes(record):
                signatures.add(shape.queue_signature, shape.size, "")

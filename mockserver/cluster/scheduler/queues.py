"""Scheduling queues: one per (project, node pool) and one per (department, node pool), projects under
their department. A queue carries its quotas, what it holds, and the fair share of the current cycle.

Resource vectors are indexed like `RESOURCES`: GPUs (devices), CPU (millicores), memory (MiB).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from mockserver.cluster.scheduler import messages
from mockserver.cluster.topology import RESOURCES, UNLIMITED, Quota

if TYPE_CHECKING:
    from mockserver.cluster.scheduler.state import JobRecord

Vector = tuple[float, float, float]
ZERO: Vector = (0.0, 0.0, 0.0)
EPSILON = 1e-9
GPU = 0


def add(a: Vector, b: Vector) -> Vector:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def exceeds(values: list[float] | Vector, bounds: list[float]) -> bool:
    """True if any resource is above its bound; an unlimited (-1) bound is never exceeded."""
    return any(b != UNLIMITED and v > b + EPSILON for v, b in zip(values, bounds, strict=True))


def within(values: list[float] | Vector, bounds: list[float]) -> bool:
    return not exceeds(values, bounds)


class QueueState:
    __slots__ = (
        "allocated",
        "allocated_np",
        "creation",
        "deserved",
        "fair_share",
        "kind",
        "limit",
        "name",
        "parent",
        "pool",
        "priority",
        "request",
        "running",
        "weight",
    )

    def __init__(
        self,
        kind: str,
        name: str,
        pool: str,
        quotas: dict[str, Quota],
        priority: int,
        creation: int,
        parent: QueueState | None,
    ) -> None:
        self.kind = kind
        self.name = name
        self.pool = pool
        self.parent = parent
        self.priority = priority
        self.creation = creation
        self.deserved = [quotas[r].deserved for r in RESOURCES]
        self.limit = [quotas[r].limit for r in RESOURCES]
        self.weight = [quotas[r].over_quota_weight for r in RESOURCES]
        self.allocated = [0.0, 0.0, 0.0]
        self.allocated_np = [0.0, 0.0, 0.0]
        self.request = [0.0, 0.0, 0.0]
        self.fair_share = [0.0, 0.0, 0.0]
        # Placed jobs by id, in placement order; only project queues hold jobs.
        self.running: dict[str, JobRecord] = {}

    @property
    def label(self) -> str:
        return f"{self.kind.capitalize()} {self.name}"

    def ancestry(self) -> list[QueueState]:
        chain: list[QueueState] = []
        queue: QueueState | None = self
        while queue is not None:
            chain.append(queue)
            queue = queue.parent
        return chain

    def allocatable_share(self, r: int) -> float:
        """What the queue may hold before it counts as over-served: max(deserved, fair share), capped by limit."""
        limit = math.inf if self.limit[r] == UNLIMITED else self.limit[r]
        if self.deserved[r] == UNLIMITED:
            return limit
        return min(limit, max(self.deserved[r], self.fair_share[r]))

    def charge(self, amount: Vector, preemptible: bool, sign: float) -> None:
        for queue in self.ancestry():
            for r in range(3):
                queue.allocated[r] += sign * amount[r]
                if not preemptible:
                    queue.allocated_np[r] += sign * amount[r]

    def capacity_problem(self, request: Vector, preemptible: bool) -> str | None:
        """Why the queue or an ancestor cannot take `request` (OverLimit, NonPreemptibleOverQuota), or None.

        Fair share is not checked here: allocation is work-conserving, only limits and, for non-preemptible
        work, deserved quotas are caps.
        """
        for queue in self.ancestry():
            for r, resource in enumerate(RESOURCES):
                if request[r] <= 0:
                    continue
                limit = queue.limit[r]
                if limit != UNLIMITED and queue.allocated[r] + request[r] > limit + EPSILON:
                    return messages.over_limit(
                        f"{queue.label} in node pool {queue.pool}",
                        resource,
                        limit,
                        queue.allocated[r],
                        request[r],
                    )
                deserved = queue.deserved[r]
                if (
                    not preemptible
                    and deserved != UNLIMITED
                    and queue.allocated_np[r] + request[r] > deserved + EPSILON
                ):
                    return messages.non_preemptible_over_quota(
                        f"{queue.label} in node pool {queue.pool}",
                        resource,
                        request[r],
                        deserved,
                        queue.allocated_np[r],
                    )
        return None

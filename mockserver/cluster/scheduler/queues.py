"""Scheduling queues: one per (project, node pool) and one per (department, node pool), projects under
their department. A queue carries its quotas, what it holds, and the fair share of the current cycle.

Figures are `ResourceVector`s indexed like `RESOURCES`: GPUs (devices), CPU (millicores), memory (MiB).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from mockserver.cluster.scheduler import messages
from mockserver.cluster.scheduler.vector import EPSILON, INDEXES, ZERO, ResourceVector
from mockserver.cluster.topology import RESOURCES, UNLIMITED, Quota

if TYPE_CHECKING:
    from mockserver.cluster.scheduler.state import PodRecord


class QueueState:
    __slots__ = (
        "_fair_share",
        "allocated",
        "allocated_np",
        "creation",
        "deserved",
        "kind",
        "limit",
        "name",
        "parent",
        "pool",
        "priority",
        "request",
        "running",
        "shares",
        "unlimited_chain",
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
        self.deserved = ResourceVector(*(quotas[r].deserved for r in RESOURCES))
        self.limit = ResourceVector(*(quotas[r].limit for r in RESOURCES))
        self.weight = ResourceVector(*(quotas[r].over_quota_weight for r in RESOURCES))
        self.allocated = ZERO
        self.allocated_np = ZERO
        self.request = ZERO
        # allocatable_share(r) for every r, kept in step with the fair share (the queue order reads it
        # for every pod a cycle places).
        self.shares: tuple[float, float, float] = (0.0, 0.0, 0.0)
        self.fair_share = ZERO
        # No limit on this queue or an ancestor: a preemptible request meets no capacity problem.
        self.unlimited_chain: bool = all(v == UNLIMITED for v in self.limit) and (
            parent is None or parent.unlimited_chain
        )
        # Placed pods by id, in placement order; only project queues hold pods.
        self.running: dict[str, PodRecord] = {}

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

    @property
    def fair_share(self) -> ResourceVector:
        return self._fair_share

    @fair_share.setter
    def fair_share(self, value: ResourceVector) -> None:
        self._fair_share = value
        self.shares = (self._allocatable(value, 0), self._allocatable(value, 1), self._allocatable(value, 2))

    def allocatable_share(self, r: int) -> float:
        """What the queue may hold before it counts as over-served: max(deserved, fair share), capped by limit."""
        return self.shares[r]

    def _allocatable(self, fair_share: ResourceVector, r: int) -> float:
        limit = math.inf if self.limit[r] == UNLIMITED else self.limit[r]
        if self.deserved[r] == UNLIMITED:
            return limit
        return min(limit, max(self.deserved[r], fair_share[r]))

    def charge(self, amount: ResourceVector, preemptible: bool, sign: float) -> None:
        change = amount if sign > 0 else amount.times(-1.0)
        queue: QueueState | None = self
        while queue is not None:
            queue.allocated = queue.allocated.plus(change)
            if not preemptible:
                queue.allocated_np = queue.allocated_np.plus(change)
            queue = queue.parent

    def capacity_problem(self, request: ResourceVector, preemptible: bool) -> str | None:
        """Why the queue or an ancestor cannot take `request` (OverLimit, NonPreemptibleOverQuota), or None.

        Fair share is not checked here: allocation is work-conserving, only limits and, for non-preemptible
        work, deserved quotas are caps.
        """
        if preemptible and self.unlimited_chain:
            return None
        for queue in self.ancestry():
            for r, resource in zip(INDEXES, RESOURCES, strict=True):
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

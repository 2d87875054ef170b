"""Fair share: deserved quota first, then the rest split by over-quota weight (KAI's proportion plugin;
docs/scheduler.md §1).

The split goes one over-quota priority tier at a time, highest first. Inside a tier it runs in rounds that
hand out whole units by weight; a queue that needs less than its slice takes what it needs and the spare goes
round again. The fractions the rounds floored away ("crumbs") go one unit at a time to the largest
remainders, older queues first. Time-based fair share (historical usage) is not modelled: usage is zero.

Departments divide a pool by the topology's `DepartmentOverQuota` rule: by default in proportion to their
deserved quotas (Run:ai's documented rule), or by their own weights as KAI's queues do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from mockserver.cluster.scheduler.queues import QueueState
from mockserver.cluster.scheduler.vector import EPSILON, INDEXES, ResourceVector
from mockserver.cluster.topology import UNLIMITED, DepartmentOverQuota


@dataclass(frozen=True)
class Claim:
    """One queue's stake in a resource: its quota, weight and what it asks for (allocated + pending)."""

    deserved: float
    limit: float
    weight: float
    request: float
    priority: int = 100
    creation: int = 0

    @property
    def requestable(self) -> float:
        return self.request if self.limit == UNLIMITED else min(self.limit, self.request)


def divide(total: float, claims: Sequence[Claim]) -> list[float]:
    """The fair share of each claim in `total`, in the order given (the result does not depend on it)."""
    shares = [0.0] * len(claims)
    requestable = [c.requestable for c in claims]
    remaining = total
    for i, claim in enumerate(claims):
        deserved = total if claim.deserved == UNLIMITED else claim.deserved
        give = min(deserved, requestable[i])
        shares[i] += give
        remaining -= give
    if remaining <= EPSILON:
        # Deserved quotas are granted even when they oversubscribe the pool; nothing is left for over-quota.
        return shares

    def unsatisfied(i: int) -> bool:
        return requestable[i] - shares[i] > EPSILON

    tiers = sorted({c.priority for c in claims}, reverse=True)
    by_age = sorted(range(len(claims)), key=lambda i: claims[i].creation)
    leftovers: dict[int, float] = {}
    for tier in tiers:
        bucket = [i for i in by_age if claims[i].priority == tier]
        while remaining > EPSILON:
            round_amount = remaining
            hungry = [i for i in bucket if unsatisfied(i) and claims[i].weight > 0]
            total_weight = sum(claims[i].weight for i in hungry)
            if total_weight <= 0:
                break
            again = False
            for i in hungry:
                if remaining <= EPSILON:
                    break
                fair = round_amount * claims[i].weight / total_weight
                need = requestable[i] - shares[i]
                if need <= fair + EPSILON:
                    give = need
                    leftovers.pop(i, None)
                    # Spare left in this slice: run another round so the others can use it.
                    again = again or need < fair - EPSILON
                else:
                    give = math.floor(fair + EPSILON)
                    if fair - give > EPSILON:
                        leftovers[i] = fair - give
                give = min(give, remaining)
                shares[i] += give
                remaining -= give
            if not again:
                break
    for tier in tiers:
        crumbs = sorted(
            (i for i in leftovers if claims[i].priority == tier),
            key=lambda i: (-leftovers[i], claims[i].creation),
        )
        for i in crumbs:
            if remaining <= EPSILON:
                break
            # Capped by the need as well, so a share never exceeds what the queue can use.
            give = min(1.0, remaining, requestable[i] - shares[i])
            shares[i] += give
            remaining -= give
    return shares


def assign_fair_shares(
    total: ResourceVector,
    departments: list[QueueState],
    projects: list[QueueState],
    rule: DepartmentOverQuota = DepartmentOverQuota.PROPORTIONAL,
) -> None:
    """Set `fair_share` top-down in one node pool: departments divide the pool, projects their department.

    Every queue's `request` (allocated + pending) must be up to date.
    """
    department_shares: list[list[float]] = [[0.0] * len(INDEXES) for _ in departments]
    project_shares: dict[int, list[float]] = {id(p): [0.0] * len(INDEXES) for p in projects}
    for r in INDEXES:
        claims = [_claim(d, r) for d in departments]
        if rule is DepartmentOverQuota.PROPORTIONAL:
            claims = _proportional(claims)
        shares = divide(total[r], claims)
        for i, (department, share) in enumerate(zip(departments, shares, strict=True)):
            department_shares[i][r] = share
            children = [p for p in projects if p.parent is department]
            for project, child_share in zip(
                children, divide(share, [_claim(p, r) for p in children]), strict=True
            ):
                project_shares[id(project)][r] = child_share
    for department, values in zip(departments, department_shares, strict=True):
        department.fair_share = ResourceVector(*values)
    for project in projects:
        project.fair_share = ResourceVector(*project_shares[id(project)])


def _claim(queue: QueueState, r: int) -> Claim:
    return Claim(
        deserved=queue.deserved[r],
        limit=queue.limit[r],
        weight=queue.weight[r],
        request=queue.request[r],
        priority=queue.priority,
        creation=queue.creation,
    )


def _proportional(claims: list[Claim]) -> list[Claim]:
    """Weights equal to deserved quotas. Where no department deserves anything of the resource (or one is
    unlimited, which already takes what it asks for) the configured weights stay, so that idle capacity
    is still shared."""
    deserved = [c.deserved for c in claims]
    if UNLIMITED in deserved or sum(deserved) <= EPSILON:
        return claims
    return [replace(c, weight=c.deserved) for c in claims]

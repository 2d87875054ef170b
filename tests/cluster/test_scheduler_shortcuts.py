"""The scheduler's shortcuts agree with what they stand for: a queue's allocatable shares follow its fair
share, a queue with no limit up its chain lets a preemptible request through without the walk, and a
pod's order key is job_key's definition."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from mockserver.cluster.resources import PodRequest
from mockserver.cluster.scheduler import Job
from mockserver.cluster.scheduler.queues import QueueState
from mockserver.cluster.scheduler.state import PodRecord, Shape
from mockserver.cluster.scheduler.vector import ResourceVector
from mockserver.cluster.topology import RESOURCES, UNLIMITED, Quota

amount = st.one_of(st.just(float(UNLIMITED)), st.floats(0, 64, allow_nan=False))
share = st.floats(0, 64, allow_nan=False)


def quotas(deserved: list[float], limit: list[float]) -> dict[str, Quota]:
    return {r: Quota(d, lim, 1.0) for r, d, lim in zip(RESOURCES, deserved, limit, strict=True)}


def spelled_out(queue: QueueState, r: int) -> float:
    """docs/scheduler.md: max(deserved, fair share), capped by the limit; unlimited deserved: the limit."""
    limit = math.inf if queue.limit[r] == UNLIMITED else queue.limit[r]
    if queue.deserved[r] == UNLIMITED:
        return limit
    return min(limit, max(queue.deserved[r], queue.fair_share[r]))


@given(
    st.lists(amount, min_size=3, max_size=3),
    st.lists(amount, min_size=3, max_size=3),
    st.lists(st.lists(share, min_size=3, max_size=3), min_size=1, max_size=3),
)
def test_allocatable_share_follows_every_fair_share(
    deserved: list[float], limit: list[float], fair_shares: list[list[float]]
) -> None:
    queue = QueueState("project", "p", "default", quotas(deserved, limit), 0, 0, None)
    for fair in fair_shares:
        queue.fair_share = ResourceVector(*fair)
        assert [queue.allocatable_share(r) for r in range(3)] == [spelled_out(queue, r) for r in range(3)]


@given(
    st.lists(amount, min_size=3, max_size=3),
    st.lists(amount, min_size=3, max_size=3),
    st.lists(st.floats(0, 16, allow_nan=False), min_size=3, max_size=3),
    st.lists(st.floats(0, 16, allow_nan=False), min_size=3, max_size=3),
)
def test_no_limit_up_the_chain_is_no_problem_for_preemptible_work(
    parent_limit: list[float], child_limit: list[float], held: list[float], request: list[float]
) -> None:
    unlimited = [float(UNLIMITED)] * 3
    department = QueueState("department", "d", "default", quotas(unlimited, parent_limit), 0, 0, None)
    project = QueueState("project", "p", "default", quotas(unlimited, child_limit), 0, 0, department)
    project.charge(ResourceVector(*held), True, +1)
    problem = project.capacity_problem(ResourceVector(*request), True)
    expected_chain = all(v == UNLIMITED for v in parent_limit + child_limit)
    assert project.unlimited_chain is expected_chain
    # Both queues hold `held`; for preemptible work only limits are caps.
    over = any(
        lim != UNLIMITED and asked > 0 and had + asked > lim + 1e-9
        for limits in (child_limit, parent_limit)
        for lim, had, asked in zip(limits, held, request, strict=True)
    )
    assert (problem is not None) is over


def test_pod_order_key_is_job_keys_definition() -> None:
    job = Job("job-7", "p1", PodRequest(gpus=1), 3, 75, True, [], None, 12)
    shape = Shape(("p1", 75, True, job.pod, None, ()), "p1", 75, True, [], {}, (), (), ())
    for index in range(3):
        record = PodRecord(job, index, shape)
        assert record.key == (-75, 12, "job-7", index)
        assert record.id == f"job-7#{index}"

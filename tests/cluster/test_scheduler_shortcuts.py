"""The scheduler's shortcuts agree with what they stand for: a queue's allocatable shares follow its fair
share, a queue with no limit up its chain lets a preemptible request through without the walk, a pod's
order key is job_key's definition, and preempt skips only preemptors no eviction could help."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.cluster.resources import PodRequest
from mockserver.cluster.scheduler import CycleResult, Job, Scheduler
from mockserver.cluster.scheduler.nodes import NodeState, PodPlacement
from mockserver.cluster.scheduler.placement import PoolIndex
from mockserver.cluster.scheduler.queues import QueueState
from mockserver.cluster.scheduler.state import ClusterState, PodRecord, Shape
from mockserver.cluster.scheduler.vector import ResourceVector
from mockserver.cluster.topology import RESOURCES, UNLIMITED, Quota, topology_from_dict

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


# -- preempt's early outs: a hopeless preemptor evicts nothing, even to try ----------------------------


_ONE_PROJECT: dict[str, object] = {
    "cluster": {"id": "c"},
    "nodePools": ["p"],
    "departments": [{"id": "d", "name": "d", "quotas": {"p": {"gpu": {"deserved": 8}}}}],
    "projects": [{"id": "a", "name": "a", "departmentId": "d", "quotas": {"p": {"gpu": {"deserved": 8}}}}],
}


def _project_of_eight(limit: int | None = None) -> Scheduler:
    quota: dict[str, object] = {"deserved": 8} if limit is None else {"deserved": 4, "limit": limit}
    data: dict[str, object] = {
        "cluster": {"id": "c"},
        "nodePools": ["p"],
        "departments": [{"id": "d", "name": "d", "quotas": {"p": {"gpu": {"deserved": 8}}}}],
        "projects": [{"id": "a", "name": "a", "departmentId": "d", "quotas": {"p": {"gpu": quota}}}],
        "nodes": [
            {"name": "n0", "pool": "p", "gpus": 8, "gpuMemoryMiB": 40960, "labels": {"run.ai/type": "t"}}
        ],
    }
    return Scheduler(topology_from_dict(data, "test"))


def _low_priority_fill(s: Scheduler, count: int) -> None:
    for i in range(count):
        s.enqueue(Job(f"low-{i}", "a", PodRequest(gpus=1), 1, 50, True, seq=i))
    result = s.cycle()
    assert len(result.started) == count


def _unbinds_during(s: Scheduler, monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], CycleResult]:
    unbound: list[str] = []
    original = ClusterState.unbind

    def counting(self: ClusterState, record: PodRecord) -> tuple[str, list[PodPlacement]]:
        unbound.append(record.id)
        return original(self, record)

    monkeypatch.setattr(ClusterState, "unbind", counting)
    return unbound, s.cycle()


@pytest.mark.parametrize(
    ("why", "job"),
    [
        (
            "a node type no node has",
            Job("high", "a", PodRequest(gpus=1), 1, 100, True, node_type="x", seq=99),
        ),
        ("more GPUs than any node", Job("high", "a", PodRequest(gpus=9), 1, 100, True, seq=99)),
        ("more CPU than any node", Job("high", "a", PodRequest(cpu_millis=10**9), 1, 100, True, seq=99)),
    ],
)
def test_a_pod_no_empty_node_could_take_tries_no_eviction(
    why: str, job: Job, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = _project_of_eight()
    _low_priority_fill(s, 8)
    s.enqueue(job)
    unbound, result = _unbinds_during(s, monkeypatch)
    assert unbound == [], why
    assert result.evicted == [] and "high" in result.pending


def test_a_pod_its_limit_refuses_even_with_every_victim_gone_tries_no_eviction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s = _project_of_eight(limit=4)
    _low_priority_fill(s, 4)
    s.enqueue(Job("high", "a", PodRequest(gpus=5), 1, 100, True, seq=99))
    unbound, result = _unbinds_during(s, monkeypatch)
    assert unbound == [] and result.evicted == []
    assert "OverLimit" in str(result.pending["high"]) or "limit" in str(result.pending["high"]).lower()


def test_a_preemptor_within_reach_still_preempts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The early outs are only for the hopeless: the same project, the same victims, a request that fits
    once four of them are gone."""
    s = _project_of_eight(limit=4)
    _low_priority_fill(s, 4)
    s.enqueue(Job("high", "a", PodRequest(gpus=4), 1, 100, True, seq=99))
    unbound, result = _unbinds_during(s, monkeypatch)
    assert len(unbound) >= 4
    assert sorted(e.job_id for e in result.evicted) == [f"low-{i}" for i in range(4)]


@given(
    st.builds(
        PodRequest,
        gpus=st.integers(0, 10),
        cpu_millis=st.integers(0, 100_000),
        memory_mib=st.floats(0, 300_000, allow_nan=False),
    ),
    st.sampled_from([None, "t", "other"]),
    st.sampled_from([None, "1g.10gb", "7g.80gb"]),
)
def test_an_empty_node_that_takes_a_pod_is_one_that_could_ever_take_it(
    pod: PodRequest, node_type: str | None, mig: str | None
) -> None:
    """`could_ever_take` is necessary for a fit: wherever the real placement finds room on an empty node,
    the shortcut said it could."""
    if mig is not None:
        pod = PodRequest(mig_profile=mig, cpu_millis=pod.cpu_millis, memory_mib=pod.memory_mib)
    for spec in (
        {"name": "g", "pool": "p", "gpus": 8, "gpuMemoryMiB": 40960, "labels": {"run.ai/type": "t"}},
        {"name": "m", "pool": "p", "gpus": 1, "gpuMemoryMiB": 81920, "migProfiles": {"1g.10gb": 7}},
    ):
        data = {**_ONE_PROJECT, "nodes": [spec]}
        topology = topology_from_dict(data, "test")
        node = NodeState(topology.nodes[0], 0)
        index = PoolIndex("p", [node])
        if index.find(pod, node_type) is not None:
            assert node.could_ever_take(pod, node_type) and index.could_ever_take(pod, node_type)

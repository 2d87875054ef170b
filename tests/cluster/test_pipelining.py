"""Preemption pipelining and consolidation on the whole fake cluster, on the manual clock (no HTTP): a pod
that evicts others waits Pending (a `Pipelined` pod event) until its victims have terminated, then binds;
a consolidated pod is replaced on its new node at once (docs/scheduler.md §2a, §2b)."""

from __future__ import annotations

from mockserver.cluster.clock import ManualClock
from mockserver.cluster.cluster import FakeCluster
from mockserver.cluster.timing import Timing
from mockserver.http.auth import Principal
from mockserver.parsing.training import parse_training
from mockserver.versions import VERSIONS
from tests.cluster.test_consolidation import two_projects

ANYONE = Principal("tester", "tester@example.com", None)


def fake(nodes: int = 1, terminating: float = 5) -> FakeCluster:
    node_list: list[dict[str, object]] = [
        {"name": f"n{i}", "pool": "p", "gpus": 2, "gpuMemoryMiB": 40960} for i in range(nodes)
    ]
    timing = Timing(terminating=terminating, schedulePeriod=1, creating=1, initializing=2)
    return FakeCluster(two_projects(node_list), timing, ManualClock(), seed=3)


def submit(
    cluster: FakeCluster, name: str, gpus: int, priority: str, project: str = "a", **spec: object
) -> str:
    body = {
        "name": name,
        "projectId": project,
        "clusterId": "c",
        "spec": {
            "image": "busybox",
            "compute": {"gpuDevicesRequest": gpus},
            "priorityClass": priority,
            **spec,
        },
    }
    parsed = parse_training(body, VERSIONS["latest"])
    return cluster.submit(parsed.request, ANYONE, parsed.issues).workload_id


def phase(cluster: FakeCluster, workload_id: str) -> str:
    return cluster._engine.workloads[workload_id].actual_phase.value


def pod_events(cluster: FakeCluster, workload_id: str, reason: str) -> list[str]:
    return [
        e.message
        for e in cluster.events_for(workload_id)
        if e.detail is not None and e.detail.split("/")[1] == reason
    ]


def preempted_setup(cluster: FakeCluster, **victim_spec: object) -> tuple[str, str]:
    victim = submit(cluster, "low", 2, "train", **victim_spec)
    cluster.advance(10)
    assert phase(cluster, victim) == "Running"
    preemptor = submit(cluster, "high", 2, "build")
    return victim, preemptor


def first_time(cluster: FakeCluster, workload_id: str, wanted: str, limit: float = 30) -> float:
    start = cluster._engine.at
    while cluster._engine.at - start < limit:
        if phase(cluster, workload_id) == wanted:
            return cluster._engine.at - start
        cluster.advance(0.5)
    raise AssertionError(f"never {wanted}")


def test_a_preemptor_waits_pipelined_until_its_victim_has_terminated():
    cluster = fake(terminating=5)
    victim, preemptor = preempted_setup(cluster)
    cluster.advance(3)  # created, queued, the cycle that evicts
    assert phase(cluster, victim) == "Terminating"
    assert phase(cluster, preemptor) == "Pending"
    (pipelined,) = pod_events(cluster, preemptor, "Pipelined")
    assert pipelined.startswith("Pod runai-a/high-") and pipelined.endswith(" was pipelined to node n0")
    assert cluster._engine.scheduler.pods(preemptor) == []  # holds its place, not bound
    reason = cluster._engine.scheduler.pending_reason(preemptor)
    assert reason == "Pod was pipelined to node n0"
    waited = first_time(cluster, preemptor, "Initializing")
    # The victim terminates over 5 s; the preemptor is bound by the cycle after that, not before.
    assert 4 <= waited <= 7
    assert pod_events(cluster, preemptor, "Scheduled")


def test_the_victims_grace_period_bounds_the_wait():
    slow = fake(terminating=20)
    _, preemptor = preempted_setup(slow, terminationGracePeriodSeconds=2)
    slow.advance(3)
    assert phase(slow, preemptor) == "Pending"
    assert first_time(slow, preemptor, "Initializing") <= 4


def test_a_consolidated_pod_is_replaced_on_its_new_node_with_kai_words():
    cluster = fake(nodes=2)
    first = submit(cluster, "x", 1, "train")
    fill0 = submit(cluster, "f0", 1, "train")
    cluster.advance(6)
    second = submit(cluster, "y", 1, "train")
    fill1 = submit(cluster, "f1", 1, "train")
    cluster.advance(6)
    cluster.delete(fill0, ANYONE)
    cluster.delete(fill1, ANYONE)
    cluster.advance(6)
    nodes = {w: cluster._engine.scheduler.pods(w)[0].node for w in (first, second)}
    assert sorted(nodes.values()) == ["n0", "n1"]
    big = submit(cluster, "big", 2, "train", project="b")
    assert first_time(cluster, big, "Initializing") <= 4
    moved = [w for w in (first, second) if pod_events(cluster, w, "Preempted")]
    assert len(moved) == 1
    (message,) = pod_events(cluster, moved[0], "Preempted")
    assert (
        message == "Pod was preempted and rescheduled due to bin packing (resource consolidation) procedure"
    )
    assert cluster._engine.scheduler.pods(moved[0])[0].node != nodes[moved[0]]
    assert phase(cluster, moved[0]) in ("Initializing", "Running")  # never evicted whole

"""The Job controller under a gang (docs/distributed.md, "Pods"), through the API on the manual clock: a
distributed training's pods are its master and workers with their own names and requests; it completes
when its master succeeds; a failed pod restarts in place (OnFailure) or takes the gang back to Pending
as a whole (Never); a node going down takes one pod (Degraded) while the gang keeps its minimum, and the
whole gang (Terminating, then Pending) once it is below it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mockserver.app import create_app
from tests.api.test_distributed import Distributed, distributed
from tests.conftest import get_token

CONTROL = "/api/mock/v1"


@pytest.fixture
def dist() -> Iterator[Distributed]:
    with create_app(api="latest").test_client() as client:
        yield Distributed(client, {"Authorization": f"Bearer {get_token(client)}"})


def phase(dist: Distributed, workload_id: str) -> str:
    return str(dist.workload(workload_id)["phase"])


def by_name(dist: Distributed, workload_id: str) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in dist.pods(workload_id)}


def node(dist: Distributed, name: str, up: bool) -> None:
    answer = dist.client.post(f"{CONTROL}/nodes/{'up' if up else 'down'}", json={"node": name})
    assert answer.status_code == 200, answer.text


def test_pods_are_the_master_and_workers_with_their_own_requests(dist):
    body = distributed("roles", numWorkers=2, command="sleep 100")
    body["masterSpec"] = {"image": "nvcr.io/nvidia/nemo", "compute": {"gpuDevicesRequest": 2}}
    created = dist.create(body).json()["workloadId"]
    # Each pod of the Job is listed from the moment it exists, pending, under its role's name.
    dist.advance(1.5)
    pending = by_name(dist, created)
    assert sorted(pending) == ["roles-master-0", "roles-worker-0", "roles-worker-1"]
    assert all(p["k8sPhase"] == "Pending" for p in pending.values())
    dist.advance(5)
    assert phase(dist, created) == "Running"
    pods = by_name(dist, created)
    assert all(p["k8sPhase"] == "Running" and p["nodeName"] for p in pods.values())
    master, worker = pods["roles-master-0"], pods["roles-worker-0"]
    assert master["requestedResources"] != worker["requestedResources"]
    assert "2" in str(master["requestedResources"]) and "2" not in str(worker["requestedResources"])


def test_it_completes_when_its_master_succeeds(dist):
    created = dist.create(distributed("done", numWorkers=2, command="sleep 5")).json()["workloadId"]
    dist.advance(20)
    assert phase(dist, created) == "Completed"
    pods = by_name(dist, created)
    assert pods["done-master-0"]["k8sPhase"] == "Succeeded"
    assert pods["done-master-0"]["completedAt"] is not None
    assert dist.job_or_none(created) is None  # every device given back


def test_a_failed_pod_takes_the_gang_back_to_pending_whole_until_the_backoff_limit(dist):
    body = distributed("crash", numWorkers=1, command="sleep 3; exit 1", backoffLimit=1)
    created = dist.create(body).json()["workloadId"]
    seen = []
    for _ in range(60):
        seen.append(phase(dist, created))
        if seen[-1] == "Pending" and "Running" in seen:
            # Back to Pending as a whole: no pod of the gang holds anything while it backs off.
            job = dist.job_or_none(created)
            assert job is None or job["pods"] == []
            listed = [p["k8sPhase"] for p in dist.pods(created)]
            assert "Running" not in listed and "Failed" in listed  # the failed pod stays listed
        dist.advance(1)
    assert seen[-1] == "Failed"
    assert seen.index("Running") < len(seen) - seen[::-1].index("Pending") - 1  # Pending after Running
    restarts = dist.workload(created)
    assert "backoffLimit 1 reached" in str(restarts) or "BackoffLimitExceeded" in str(restarts)


def test_on_failure_restarts_the_container_in_its_pod_on_its_node(dist):
    body = distributed(
        "again", numWorkers=1, command="sleep 3; exit 1", backoffLimit=3, restartPolicy="OnFailure"
    )
    created = dist.create(body).json()["workloadId"]
    dist.advance(6)
    first = {name: p["nodeName"] for name, p in by_name(dist, created).items()}
    assert set(first) == {"again-master-0", "again-worker-0"} and all(first.values())
    seen = set()
    for _ in range(15):
        dist.advance(1)
        seen.add(phase(dist, created))
        now = by_name(dist, created)
        if now and seen <= {"Running", "Degraded", "Initializing"}:
            # Same pods (names), same nodes: restarted in place, never re-queued.
            active = {n: p["nodeName"] for n, p in now.items() if p["k8sPhase"] != "Failed"}
            assert active == first
    assert "Pending" not in seen


def _elastic(dist: Distributed, name: str) -> str:
    # Master + 2 workers of 2 GPUs each on two 4-GPU nodes; the minimum is the master and one worker.
    body = distributed(
        name, gpus=2, numWorkers=2, minReplicas=1, maxReplicas=2, distributedFramework="PyTorch"
    )
    body["spec"]["command"] = "sleep 1000"
    created = dist.create(body).json()["workloadId"]
    dist.advance(8)
    assert phase(dist, created) == "Running"
    return str(created)


def test_a_node_down_above_the_minimum_degrades_and_recreates_the_pod(dist):
    created = _elastic(dist, "elastic")
    pods = by_name(dist, created)
    nodes: dict[str, list[str]] = {}
    for pod_name, pod in pods.items():
        nodes.setdefault(pod["nodeName"], []).append(pod_name)
    # The node holding one worker alone (binpack puts two pods on the other).
    lone = next(n for n, names in nodes.items() if names != [] and len(names) == 1)
    (lost,) = nodes[lone]
    assert lost != "elastic-master-0"
    node(dist, lone, up=False)
    assert phase(dist, created) == "Degraded"
    after = by_name(dist, created)
    assert after[lost]["k8sPhase"] == "Pending" and after[lost]["nodeName"] is None  # same name, anew
    assert after[lost]["id"] != pods[lost]["id"]
    events = dist.client.get(f"/api/v1/workloads/{created}/events", headers=dist.headers).json()["events"]
    assert any(e["reason"] == "Evicted" and lost in str(e) for e in events)
    dist.advance(5)
    assert phase(dist, created) == "Degraded"  # nowhere to go while the node is down
    node(dist, lone, up=True)
    dist.advance(6)
    assert phase(dist, created) == "Running"
    assert by_name(dist, created)[lost]["nodeName"] == lone


def test_a_node_down_below_the_minimum_evicts_the_whole_gang(dist):
    created = _elastic(dist, "stale")
    pods = by_name(dist, created)
    master_node = pods["stale-master-0"]["nodeName"]
    on_it = [n for n, p in pods.items() if p["nodeName"] == master_node]
    assert len(on_it) == 2  # the master and a worker: the one left is below the minimum of two
    node(dist, master_node, up=False)
    assert phase(dist, created) == "Terminating"
    assert dist.job_or_none(created) is None  # the surviving worker went too (stale-gang eviction)
    seen = [phase(dist, created)]
    for _ in range(10):
        dist.advance(1)
        seen.append(phase(dist, created))
    assert "Pending" in seen

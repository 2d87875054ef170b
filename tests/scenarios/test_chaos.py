"""Cluster chaos through the control API, seen the way a client sees it: through the Run:ai API (phases,
pods' nodes, events, conditions), on the manual clock."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from mockserver.app import create_app
from tests.conftest import Api, get_token, training

CONTROL = "/api/mock/v1"


@pytest.fixture
def latest() -> Iterator[tuple[Any, Api]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with create_app(api="latest").test_client() as client:
            yield client, Api(client, {"Authorization": f"Bearer {get_token(client)}"})


def _chaos(client: Any, path: str, **body: Any) -> dict[str, Any]:
    response = client.post(f"{CONTROL}{path}", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _gpus(count: int, name: str, project: str = "1") -> dict[str, Any]:
    return training(name, project, compute={"gpuDevicesRequest": count})


def _nodes(client: Any, api: Api, workload_id: str) -> list[str | None]:
    pods = client.get(f"/api/v1/workloads/{workload_id}/pods", headers=api.headers).json()["pods"]
    return [pod["nodeName"] for pod in pods]


def _workload(client: Any, api: Api, workload_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = client.get(f"/api/v1/workloads/{workload_id}", headers=api.headers).json()
    return answer


def test_a_node_going_down_evicts_its_pods_and_the_training_runs_again_elsewhere(latest) -> None:
    client, api = latest
    trainer = api.create(_gpus(4, "trainer")).json()["workloadId"]
    api.advance(10)
    assert api.phase(trainer) == "Running" and _nodes(client, api, trainer) == ["node-default-1"]
    done = _chaos(client, "/nodes/down", node="node-default-1")
    assert done["workloadIds"] == [trainer]
    assert api.phase(trainer) == "Terminating"
    shown = _workload(client, api, trainer)
    disruption = [c for c in shown["conditions"] if c["type"] == "DisruptionTarget"]
    assert disruption and disruption[0]["reason"] == "DeletionByTaintManager"
    events = client.get(f"/api/v1/workloads/{trainer}/events", headers=api.headers).json()["events"]
    assert events[0]["type"] == "Warning" and events[0]["reason"] == "TaintManagerEviction"
    assert "node-default-1 is not ready" in events[0]["message"]
    assert api.phases_over(trainer, 10) == ["Terminating", "Pending", "Initializing", "Running"]
    assert _nodes(client, api, trainer) == ["node-default-2"]


def test_a_node_going_down_under_one_of_several_pods_degrades_the_training(latest) -> None:
    # Two 4-GPU pods fill both default nodes; the node that goes down takes one of them, which the Job
    # controller recreates (pending, nowhere to go): Running -> Degraded, and Running once it is back.
    client, api = latest
    pair = api.create(
        training("pair", compute={"gpuDevicesRequest": 4}, parallelism=2, nodePools=["default"])
    )
    trainer = pair.json()["workloadId"]
    api.advance(10)
    assert api.phase(trainer) == "Running"
    assert sorted(_nodes(client, api, trainer), key=str) == ["node-default-1", "node-default-2"]
    _chaos(client, "/nodes/down", node="node-default-1")
    assert api.phase(trainer) == "Degraded"
    assert sorted(_nodes(client, api, trainer), key=str) == [None, "node-default-2"]
    events = client.get(f"/api/v1/workloads/{trainer}/events", headers=api.headers).json()["events"]
    assert any(e["reason"] == "Evicted" and "node-default-1 is not ready" in e["message"] for e in events)
    api.advance(5)
    assert api.phase(trainer) == "Degraded"
    _chaos(client, "/nodes/up", node="node-default-1")
    api.advance(10)
    assert api.phase(trainer) == "Running"
    assert sorted(_nodes(client, api, trainer), key=str) == ["node-default-1", "node-default-2"]


def test_a_node_that_is_down_takes_no_pod_until_it_is_up(latest) -> None:
    client, api = latest
    _chaos(client, "/nodes/down", node="node-default-1")
    first = api.create(_gpus(4, "first")).json()["workloadId"]
    second = api.create(_gpus(4, "second")).json()["workloadId"]
    api.advance(10)
    assert api.phase(first) == "Running" and _nodes(client, api, first) == ["node-default-2"]
    waiting = _workload(client, api, second)
    assert waiting["phase"] == "Pending"
    assert "node.kubernetes.io/not-ready" in waiting["phaseMessage"]
    assert _chaos(client, "/nodes/up", node="node-default-1")["workloadIds"] == []
    api.advance(10)
    assert api.phase(second) == "Running" and _nodes(client, api, second) == ["node-default-1"]


def test_an_unhealthy_gpu_fails_the_pod_on_it_and_takes_no_pod(latest) -> None:
    client, api = latest
    one = api.create(_gpus(1, "one")).json()["workloadId"]
    api.advance(10)
    node = _nodes(client, api, one)[0]
    assert node == "node-default-1"
    assert _chaos(client, "/gpus/unhealthy", node=node, gpu=0)["workloadIds"] == [one]
    failed = _workload(client, api, one)
    assert failed["phase"] == "Pending" and failed["phaseMessage"].startswith("Back-off restarting failed")
    events = client.get(f"/api/v1/workloads/{one}/events", headers=api.headers).json()["events"]
    assert "GPU 0 of node node-default-1 failed" in events[0]["message"]
    api.advance(60)  # the back-off, then a healthy GPU
    assert api.phase(one) == "Running"
    assert api.get(one).json()["actualPhase"] == "Running"
    # Four whole GPUs: node-default-1 has three healthy free ones and one, node-default-2 is busy.
    busy = api.create(_gpus(4, "busy")).json()["workloadId"]
    big = api.create(_gpus(4, "big")).json()["workloadId"]
    api.advance(10)
    assert api.phase(busy) == "Running" and api.phase(big) == "Pending"
    api.delete(one)
    api.advance(10)
    assert api.phase(big) == "Pending"  # three healthy GPUs are not four
    _chaos(client, "/gpus/healthy", node=node, gpu=0)
    api.advance(10)
    assert api.phase(big) == "Running"


def test_a_gpu_failure_past_the_backoff_limit_fails_the_training(latest) -> None:
    client, api = latest
    fragile = api.create(training("fragile", compute={"gpuDevicesRequest": 1}, backoffLimit=0)).json()
    api.advance(10)
    _chaos(client, "/gpus/unhealthy", node="node-default-1", gpu=0)
    assert api.phase(fragile["workloadId"]) == "Failed"


def test_a_quota_change_triggers_reclaim(latest) -> None:
    client, api = latest
    # team-b (project 3) deserves 2 GPUs in the default pool: take them away, let team-a fill the pool.
    _chaos(client, "/projects/quota", projectId="3", gpus=0)
    held = [api.create(_gpus(4, f"a{i}")).json()["workloadId"] for i in range(2)]
    api.advance(10)
    assert [api.phase(w) for w in held] == ["Running", "Running"]
    waiting = api.create(_gpus(2, "b", project="3")).json()["workloadId"]
    api.advance(30)
    assert api.phase(waiting) == "Pending"
    _chaos(client, "/projects/quota", projectId="3", gpus=4)
    api.advance(30)
    assert api.phase(waiting) == "Running"
    reclaimed = [w for w in held if api.get(w).json()["actualPhase"] != "Running"]
    assert len(reclaimed) == 1
    assert any(e["reason"] == "Preempted" for e in client.get(f"/api/v1/workloads/{reclaimed[0]}/events", headers=api.headers).json()["events"])  # fmt: skip


def test_reset_undoes_every_chaos_move(latest) -> None:
    client, api = latest
    _chaos(client, "/nodes/down", node="node-default-1")
    _chaos(client, "/gpus/unhealthy", node="node-default-2", gpu=3)
    _chaos(client, "/projects/quota", projectId="1", gpus=0)
    assert client.post(f"{CONTROL}/reset", headers={"X-Mock-Control": "1"}).status_code == 204
    api.headers = {"Authorization": f"Bearer {get_token(client)}"}
    ids = [api.create(_gpus(4, f"t{i}")).json()["workloadId"] for i in range(2)]
    api.advance(10)
    assert [api.phase(w) for w in ids] == ["Running", "Running"]
    snapshot = client.get(f"{CONTROL}/snapshot").json()
    assert all(node["ready"] for node in snapshot["nodes"])
    team_a = next(p for p in snapshot["projects"] if p["id"] == "1")
    assert team_a["nodePools"]["default"]["deserved"] == 4


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/nodes/down", {"node": "no-such-node"}, 404),
        ("/nodes/up", {}, 400),
        ("/gpus/unhealthy", {"node": "node-default-1", "gpu": 4}, 400),
        ("/gpus/unhealthy", {"node": "node-mig-1", "gpu": 0}, 400),
        ("/gpus/healthy", {"node": "node-default-1", "gpu": "zero"}, 400),
        ("/projects/quota", {"projectId": "999", "gpus": 1}, 404),
        ("/projects/quota", {"projectId": "4", "gpus": 5}, 400),  # above its limit of 4
        ("/projects/quota", {"projectId": "1", "nodePool": "nowhere", "gpus": 1}, 400),
    ],
)
def test_bad_chaos_requests_get_documented_errors(
    latest, path: str, body: dict[str, Any], status: int
) -> None:
    client, _ = latest
    response = client.post(f"{CONTROL}{path}", json=body)
    assert response.status_code == status, response.text
    assert set(response.json()) >= {"code", "message"}


def test_repeating_a_move_is_harmless(latest) -> None:
    client, _ = latest
    _chaos(client, "/nodes/down", node="node-default-1")
    assert "already down" in _chaos(client, "/nodes/down", node="node-default-1")["message"]
    assert "already up" in _chaos(client, "/nodes/up", node="node-default-2")["message"]
    assert "healthy already" in _chaos(client, "/gpus/healthy", node="node-default-2", gpu=1)["message"]

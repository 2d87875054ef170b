"""The pytest plugin as another project would use it: a fake per session, reset before each test."""

from __future__ import annotations

import httpx

from contracts.mock_extras import intervals
from contracts.pytest_plugin import RunaiMock
from tests.conftest import CLUSTER_ID

created: list[str] = []


def submit(mock: RunaiMock) -> httpx.Response:
    body = {"name": "plugin", "projectId": "1", "clusterId": CLUSTER_ID, "spec": {"image": "busybox"}}
    return httpx.post(f"{mock.base_url}/api/v1/workloads/trainings", json=body, headers=mock.headers())


def phase(mock: RunaiMock, workload_id: str) -> str | int:
    response = httpx.get(f"{mock.base_url}/api/v1/workloads/trainings/{workload_id}", headers=mock.headers())
    return response.json()["actualPhase"] if response.status_code == 200 else response.status_code


def test_a_training_runs_on_the_manual_clock(runai_mock: RunaiMock) -> None:
    response = submit(runai_mock)
    assert response.status_code == 200, response.text
    created.append(response.json()["workloadId"])
    assert phase(runai_mock, created[0]) == "Creating"
    runai_mock.control.advance(5)
    assert phase(runai_mock, created[0]) == "Running"


def test_the_next_test_starts_from_an_empty_cluster(runai_mock: RunaiMock) -> None:
    # Whatever earlier tests of the session made is gone: no workload at all, and the training of the test
    # above (when it ran before this one in this process; xdist may place them apart) answers 404.
    counted = httpx.get(f"{runai_mock.base_url}/api/v1/workloads/count", headers=runai_mock.headers())
    assert counted.status_code == 200 and counted.json()["count"] == 0, counted.text
    for workload_id in created:
        assert phase(runai_mock, workload_id) == 404
    assert runai_mock.control.clock().now.startswith("2025-01-01T00:00:00")


def test_the_control_client_forces_outcomes_and_faults(runai_mock: RunaiMock) -> None:
    workload_id = submit(runai_mock).json()["workloadId"]
    runai_mock.control.advance(5)
    runai_mock.control.force_outcome(workload_id, "Completed")
    assert phase(runai_mock, workload_id) == "Completed"
    assert any(event.get("workloadId") == workload_id for event in runai_mock.control.events())
    assert runai_mock.control.nodes_holding(workload_id) == []
    runai_mock.control.set_faults(error_rate=1.0, error_status=503)
    assert phase(runai_mock, workload_id) == 503


def test_the_fixture_shows_what_the_client_sent(runai_mock: RunaiMock) -> None:
    workload_id = submit(runai_mock).json()["workloadId"]
    for _ in range(3):
        phase(runai_mock, workload_id)
        runai_mock.control.advance(2)
    creates = runai_mock.requests(operation="create_training1")
    assert [(r.workload_id, r.status, r.caller) for r in creates] == [(workload_id, 200, "mock-app")]
    polls = runai_mock.requests(operation="get_training", workload=workload_id)
    assert len(polls) == 3
    assert intervals(polls) == [2.0, 2.0]
    assert runai_mock.requests(caller="nobody") == []


def test_the_fixture_takes_a_node_down_and_the_api_shows_the_eviction(runai_mock: RunaiMock) -> None:
    body = {
        "name": "on-a-node",
        "projectId": "1",
        "clusterId": CLUSTER_ID,
        "spec": {"image": "busybox", "compute": {"gpuDevicesRequest": 4}},
    }
    url = f"{runai_mock.base_url}/api/v1/workloads/trainings"
    workload_id = httpx.post(url, json=body, headers=runai_mock.headers()).json()["workloadId"]
    runai_mock.control.advance(10)
    assert runai_mock.control.nodes_holding(workload_id) == ["node-default-1"]
    moved = runai_mock.cluster.node_down("node-default-1")
    assert moved["workloadIds"] == [workload_id]
    assert phase(runai_mock, workload_id) == "Terminating"
    runai_mock.control.advance(10)
    assert phase(runai_mock, workload_id) == "Running"
    assert runai_mock.control.nodes_holding(workload_id) == ["node-default-2"]
    runai_mock.cluster.node_up("node-default-1")
    runai_mock.cluster.gpu_unhealthy("node-default-2", 0)
    assert phase(runai_mock, workload_id) == "Pending"  # its container failed with the GPU
    runai_mock.cluster.gpu_healthy("node-default-2", 0)
    assert "deserves 0 GPUs" in runai_mock.cluster.set_quota("1", 0)["message"]


def test_the_fixture_audits_what_the_client_sent(runai_mock: RunaiMock) -> None:
    workload_id = submit(runai_mock).json()["workloadId"]
    runai_mock.control.advance(5)
    assert phase(runai_mock, workload_id) == "Running"
    assert runai_mock.audit() == []
    url = f"{runai_mock.base_url}/api/v1/workloads/trainings/{workload_id}/suspend"
    assert httpx.get(url, headers=runai_mock.headers()).status_code == 405  # the operation is POST-only
    [finding] = runai_mock.audit()
    assert finding["check"] == "contract" and finding["request"].startswith("GET ")

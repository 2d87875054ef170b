"""A user's test with the `runai_mock` fixture: the pytest plugin starts the fake once per session (manual
clock) and resets it before each test. Run it with `pytest examples/pytest_plugin`."""

from __future__ import annotations

import httpx

CLUSTER_ID = "71f69d83-ba66-4822-adf5-55ce55efd210"


def test_a_training_runs_then_stops_when_suspended(runai_mock) -> None:
    api = httpx.Client(base_url=runai_mock.base_url, headers=runai_mock.headers(), timeout=10)
    body = {"name": "demo", "projectId": "1", "clusterId": CLUSTER_ID, "spec": {"image": "busybox"}}
    workload_id = api.post("/api/v1/workloads/trainings", json=body).json()["workloadId"]

    runai_mock.control.advance(5)  # virtual seconds: Creating -> Pending -> Initializing -> Running
    assert api.get(f"/api/v1/workloads/trainings/{workload_id}").json()["actualPhase"] == "Running"

    api.post(f"/api/v1/workloads/trainings/{workload_id}/suspend")
    runai_mock.control.advance(30)
    assert api.get(f"/api/v1/workloads/{workload_id}").json()["phase"] == "Stopped"


def test_each_test_starts_from_an_empty_cluster(runai_mock) -> None:
    api = httpx.Client(base_url=runai_mock.base_url, headers=runai_mock.headers(), timeout=10)
    assert api.get("/api/v1/workloads/count").json() == {"count": 0}

"""Job semantics as a user meets them: `mockserver --real-deployment` as a child process on real time
(sped up), plain HTTP, no control API. An `.invalid` image fails with ImagePullBackOff; a training of
`parallelism 2, completions 4` and `sleep 1` runs four pods."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.cli.live import LiveServer, start

pytestmark = pytest.mark.slow
CLUSTER_ID = "71f69d83-ba66-4822-adf5-55ce55efd210"
# Virtual seconds per real second: the 60 s before an unpullable image fails take six real seconds.
SPEED = "10"


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    live = start("--clock", "realtime", "--speed", SPEED, "--real-deployment")
    yield live
    live.stop()


@pytest.fixture(scope="module")
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        token = client.post(
            "/api/v1/token",
            json={"grantType": "client_credentials", "clientId": "mock-app", "clientSecret": "mock-secret"},
        ).json()["accessToken"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


def create(http: httpx.Client, name: str, **spec: Any) -> str:
    body = {"name": name, "projectId": "1", "clusterId": CLUSTER_ID, "spec": {"image": "busybox", **spec}}
    answer = http.post("/api/v1/workloads/trainings", json=body)
    assert answer.status_code in (200, 202), answer.text
    return str(answer.json()["workloadId"])


def wait_for(http: httpx.Client, workload_id: str, phases: set[str], seconds: float) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        shown = http.get(f"/api/v1/workloads/{workload_id}").json()
        if shown["phase"] in phases:
            return dict(shown)
        time.sleep(0.1)
    raise AssertionError(f"{workload_id} never reached {phases}: {shown['phase']}")


@pytest.mark.waits(7)
def test_an_invalid_registry_fails_with_image_pull_back_off(http: httpx.Client) -> None:
    workload_id = create(http, "no-pull", image="registry.invalid/team/app:1", command="sleep 1")
    shown = wait_for(http, workload_id, {"Failed"}, 60)
    assert shown["phaseMessage"].startswith("ImagePullBackOff")
    events = http.get(f"/api/v1/workloads/{workload_id}/events").json()["events"]
    pulled = [(e["reason"], e["message"]) for e in events if e["involvedObject"]["kind"] == "Pod"]
    assert any(r == "Failed" and m.startswith('Failed to pull image "registry.invalid') for r, m in pulled)
    assert any(r == "BackOff" and m.startswith("Back-off pulling image") for r, m in pulled)


def test_parallelism_two_completions_four_runs_four_pods(http: httpx.Client) -> None:
    workload_id = create(http, "hpo", parallelism=2, completions=4, command="sleep 1")
    most_running = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pods = http.get(f"/api/v1/workloads/{workload_id}/pods").json()["pods"]
        most_running = max(most_running, sum(p["k8sPhase"] == "Running" for p in pods))
        if http.get(f"/api/v1/workloads/{workload_id}").json()["phase"] == "Completed":
            break
        time.sleep(0.05)
    pods = http.get(f"/api/v1/workloads/{workload_id}/pods").json()["pods"]
    assert [p["k8sPhase"] for p in pods] == ["Succeeded"] * 4
    assert most_running <= 2
    shown = http.get(f"/api/v1/workloads/{workload_id}").json()
    assert shown["phase"] == "Completed" and shown["requestedPods"]["completions"] == 4

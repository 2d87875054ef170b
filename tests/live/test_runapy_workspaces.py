"""Workspaces through real clients on a live fake in real time (speed 1, no control API): runapy 1.224's
`WorkspacesApi` unmodified (create, get, suspend, resume, delete), and NeMo-Run's data mover — a busybox
workspace whose copy command ends in seconds and shows Completed, as DGXCloudExecutor polls for."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from contracts.backend.server import LocalServer, fake_command
from tests.api.test_workspaces import DATA_MOVER
from tests.conftest import CLUSTER_ID
from tests.live import runapy

pytestmark = [pytest.mark.slow, pytest.mark.waits(7)]  # flows on a real-time clock
WAIT_SECONDS = 30.0  # real seconds any one wait may take before the test fails


@pytest.fixture(scope="module", params=["2.18", "latest"])
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, LocalServer]]:
    command = fake_command(seed=5, clock="realtime", speed=1, api=request.param, real_deployment=True)
    with LocalServer.start(command) as live:
        yield request.param, live


def wait_for(what: str, probe: Callable[[], Any], wanted: Callable[[Any], bool]) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    seen = probe()
    while not wanted(seen):
        assert time.monotonic() < deadline, f"{what}: still {seen!r} after {WAIT_SECONDS} s"
        time.sleep(0.2)
        seen = probe()
    return seen


def test_runapy_workspace_create_get_suspend_resume_delete(served: tuple[str, LocalServer]) -> None:
    api, server = served
    config = runapy.Configuration(
        client_id="mock-app", client_secret="mock-secret", runai_base_url=server.base_url
    )
    client = runapy.RunaiClient(runapy.ApiClient(config))
    workspaces = client.workloads.workspaces
    request = runapy.models.WorkspaceCreationRequest.from_dict(
        {
            "name": "runapy-notebook",
            "projectId": "1",
            "clusterId": CLUSTER_ID,
            "spec": {"image": "jupyter/base-notebook", "compute": {"gpuDevicesRequest": 1}},
        }
    )
    created = workspaces.create_workspace1(workspace_creation_request=request)
    assert created.status_code == (200 if api == "2.18" else 202)
    workload_id = created.data["workloadId"]

    def phase() -> str:
        answer: dict[str, Any] = workspaces.get_workspace(workload_id=workload_id).data
        if api == "latest":
            assert runapy.models.Workspace1.from_dict(answer) is not None
        return str(answer["actualPhase"])

    wait_for("phase", phase, lambda p: p == "Running")
    shown = client.workloads.workloads.get_workload(workload_id=workload_id).data
    assert shown["type"] == "Workspace" and shown["preemptible"] is False
    assert workspaces.suspend_workspace(workload_id=workload_id).status_code == 202
    wait_for("phase after suspend", phase, lambda p: p == "Stopped")
    assert workspaces.resume_workspace(workload_id=workload_id).status_code == 202
    wait_for("phase after resume", phase, lambda p: p == "Running")
    assert workspaces.delete_workspace(workload_id=workload_id).status_code == (204 if api == "2.18" else 202)
    with pytest.raises(runapy.NotFoundException):
        wait_for("deletion", phase, lambda p: False)
    client.close()


def test_nemo_run_data_mover_completes_in_real_time(served: tuple[str, LocalServer]) -> None:
    _, server = served
    token = httpx.post(
        server.base_url + "/api/v1/token",
        json={"grantType": "app_token", "AppId": "mock-app", "AppSecret": "mock-secret"},
        timeout=10,
    ).json()["accessToken"]
    headers = {"Authorization": f"Bearer {token}"}
    # The body DGXCloudExecutor.create_data_mover_workload sends (its PVC left out: storage is echoed only).
    body = {
        "name": "data-mover",
        "useGivenNameAsPrefix": True,
        "projectId": "1",
        "clusterId": CLUSTER_ID,
        "spec": {"command": "sh -c", "args": f"'{DATA_MOVER}'", "image": "busybox:1.37.0"},
    }
    created = httpx.post(
        server.base_url + "/api/v1/workloads/workspaces", json=body, headers=headers, timeout=10
    )
    assert created.status_code in (200, 202), created.text
    workload_id = created.json()["workloadId"]
    url = f"{server.base_url}/api/v1/workloads/workspaces/{workload_id}"
    wait_for(
        "data mover",
        lambda: httpx.get(url, headers=headers, timeout=10).json()["actualPhase"],
        lambda p: p == "Completed",
    )
    assert httpx.delete(url, headers=headers, timeout=10).status_code in (202, 204)

"""NVIDIA NeMo-Run's DGX Cloud executor, unmodified, against a live fake on a real-time clock.

`nemo-run==0.11.1` (with `leptonai==0.27.3`, which it imports) lives in a venv of its own, cached outside
the checkout (`tests/clientenv.py`) so that its pins never touch ours and it is built once per machine.
It runs `examples/nemo_run_executor.py`: the executor gets a token, finds its project by name through
`/org-unit/projects`, in its default launch runs its data-mover workspace to completion and deletes it,
submits a training and follows `status()` until Running; launched from the cluster it skips the data
mover. The older executors' flow, polling `phase` from `/api/v1/workloads/{id}`, is replayed as raw HTTP.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.backend.server import LocalServer, fake_command
from tests.clientenv import NEMO_RUN, client_python
from tests.conftest import CLUSTER_ID, REPO

pytestmark = [pytest.mark.slow, pytest.mark.waits(8)]  # a launch follows its workloads on a real-time clock
SPEED = 20
WAIT_SECONDS = 30.0

# The example script runs inside NeMo-Run's own venv: the executor does everything; the script only
# reports what it saw. Without --from-cluster it is the executor's default launch: before the training it
# copies the experiment into the PVC with a "data mover" workspace (busybox, `sh -c '… base64 -d … tar
# -xzf …'`), which it polls every 10 real seconds until Completed and then deletes.
EXAMPLE = REPO / "examples" / "nemo_run_executor.py"


def _launch(server: LocalServer, home: Path, *options: str, wait: float) -> dict[str, Any]:
    env = {**os.environ, "NEMORUN_HOME": str(home)}
    ran = subprocess.run(
        [str(_nemo_python()), str(EXAMPLE), "--url", server.base_url, "--timeout", str(wait), *options],
        capture_output=True,
        text=True,
        env=env,
        timeout=wait + 60,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    report: dict[str, Any] = json.loads(ran.stdout.strip().splitlines()[-1])
    return report


def _nemo_python() -> Path:
    return client_python(NEMO_RUN)


@pytest.fixture(scope="module", params=["2.18", "latest"])
def server(request: pytest.FixtureRequest) -> Iterator[LocalServer]:
    command = fake_command(seed=13, clock="realtime", speed=SPEED, api=request.param, real_deployment=True)
    with LocalServer.start(command) as live:
        yield live


def test_dgx_cloud_executor_finds_its_project_submits_and_reaches_running(
    server: LocalServer, tmp_path: Path
) -> None:
    report = _launch(server, tmp_path, "--from-cluster", wait=WAIT_SECONDS)
    assert report["phases"][0] == "Creating" and report["phases"][-1] == "Running", report

    # What the executor submitted, as the fake recorded it: the project found by name, the name cut and
    # lower-cased with a random suffix, its launch script as the command.
    token = _token(server.base_url)
    training = httpx.get(
        f"{server.base_url}/api/v1/workloads/trainings/{report['job_id']}", headers=token, timeout=10
    ).json()
    assert (training["projectId"], training["clusterId"]) == ("3", CLUSTER_ID)
    assert training["requestedName"] == "pretrain-llama-small"
    assert training["name"].startswith("pretrain-llama-small-")
    assert training["spec"]["command"].endswith("/launch_script.sh")
    assert training["spec"]["compute"] == {"gpuDevicesRequest": 1, "largeShmRequest": True}


def _token(base_url: str) -> dict[str, str]:
    body = {"grantType": "client_credentials", "clientId": "mock-app", "clientSecret": "mock-secret"}
    answer = httpx.post(f"{base_url}/api/v1/token", json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['accessToken']}"}


def test_older_executors_poll_phase_from_the_workloads_api(server: LocalServer) -> None:
    base, auth = server.base_url + "/api/v1", _token(server.base_url)
    projects: list[dict[str, Any]] = httpx.get(f"{base}/org-unit/projects", headers=auth, timeout=10).json()[
        "projects"
    ]
    project = next(p for p in projects if p["name"] == "team-a")
    created = httpx.post(
        f"{base}/workloads/trainings",
        headers=auth,
        timeout=10,
        json={
            "name": "older-executor",
            "useGivenNameAsPrefix": True,
            "projectId": project["id"],
            "clusterId": project["clusterId"],
            "spec": {
                "image": "nvcr.io/nvidia/nemo:24.12",
                "command": "sleep 600",
                "compute": {"gpuDevicesRequest": 1},
            },
        },
    )
    assert created.status_code in (200, 202), created.text
    workload_id = created.json()["workloadId"]
    phases: list[str] = []
    deadline = time.monotonic() + WAIT_SECONDS
    while not phases or phases[-1] != "Running":
        assert time.monotonic() < deadline, phases
        answer = httpx.get(f"{base}/workloads/{workload_id}", headers=auth, timeout=10)
        assert answer.status_code == 200, answer.text
        if not phases or answer.json()["phase"] != phases[-1]:
            phases.append(answer.json()["phase"])
        time.sleep(0.05)
    # The phases seen follow the lifecycle's order and end at Running. How many of the early ones a poll
    # catches depends on the machine (at speed 20 they last fractions of a real second; a busy machine's
    # first look may already see Running), so the test asks for the order, not for a first phase.
    lifecycle = ["Creating", "Pending", "Initializing", "Running"]
    assert phases == [p for p in lifecycle if p in phases] and phases[-1] == "Running", phases


def test_default_launch_runs_the_data_mover_workspace_then_the_training(
    server: LocalServer, tmp_path: Path
) -> None:
    # The executor sleeps 10 s before each look at its data mover.
    report = _launch(server, tmp_path, wait=WAIT_SECONDS + 30)
    assert report["phases"][-1] == "Running", report

    token = _token(server.base_url)
    deleted = httpx.get(
        f"{server.base_url}/api/v1/workloads", params={"deleted": "true"}, headers=token, timeout=10
    ).json()["workloads"]
    movers = [w for w in deleted if w["name"].startswith("data-mover-")]
    # One data mover, a workspace, run to completion and deleted by the executor once it had seen Completed.
    assert [(w["type"], w["projectId"]) for w in movers] == [("Workspace", "3")], deleted
    events = httpx.get(
        f"{server.base_url}/api/v1/workloads/{movers[0]['id']}/events", headers=token, timeout=10
    )
    history = httpx.get(
        f"{server.base_url}/api/v1/workloads/{movers[0]['id']}/history", headers=token, timeout=10
    )
    seen = json.dumps([events.json() if events.status_code == 200 else None, history.json()])
    assert "Completed" in seen, seen[:2000]
    training = httpx.get(
        f"{server.base_url}/api/v1/workloads/trainings/{report['job_id']}", headers=token, timeout=10
    ).json()
    assert training["spec"]["command"].endswith("/launch_script.sh")

"""NeMo-Run 0.11.1's `DGXCloudExecutor`, unmodified, in its default launch with two nodes, against a live
fake on a real-time clock (no control API): the data mover workspace completes and is deleted, the
distributed training (`POST /workloads/distributed`) reaches Running through `status()`, and `cancel()` —
which sends GET to `…/distributed/{id}/suspend` — gets the answer the contract gives a GET there: 405 with
`{code, message}` where the version has the POST-only suspend path (2.20+), else the plain "no such
endpoint" 404; the training runs on."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.backend.server import LocalServer, fake_command
from mockserver.versions import VERSIONS
from tests.live.test_nemo_run import _nemo_python, _token

pytestmark = [pytest.mark.slow, pytest.mark.waits(10)]  # a launch on a real-time clock
SPEED = 20
WAIT_SECONDS = 60.0

# Runs inside NeMo-Run's own venv: the executor does everything, the script reports what it saw.
DRIVER = """
import json, os, sys, time
from nemo_run.core.execution.dgxcloud import DGXCloudExecutor

url, home, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
executor = DGXCloudExecutor(
    base_url=f"{url}/api/v1",
    kube_apiserver_url="https://kubernetes.invalid",
    client_id="mock-app",
    client_secret="mock-secret",
    project_name="team-b",
    container_image="nvcr.io/nvidia/nemo:24.12",
    pvc_nemo_run_dir=os.path.join(home, "pvc"),
    pvcs=[{"name": "nemo-workspace", "path": os.path.join(home, "pvc"), "claimName": "nemo-claim"}],
    nodes=2,
    gpus_per_node=1,
)
experiment = os.path.join(home, "experiments", "pretrain")
os.makedirs(os.path.join(experiment, "task"), exist_ok=True)
executor.assign("pretrain-1", experiment, "task", "task")
job_id, first = executor.launch("Pretrain_Llama.Dist", ["python", "-m", "train"])
seen, deadline = [first], time.monotonic() + timeout
while seen[-1] != "Running" and time.monotonic() < deadline:
    time.sleep(0.2)
    state = executor.status(job_id)
    if state is not None and state.value != seen[-1]:
        seen.append(state.value)
executor.cancel(job_id)
after = executor.status(job_id)
print(json.dumps({"job_id": job_id, "phases": seen, "after_cancel": after.value if after else None}))
"""


@pytest.fixture(scope="module", params=["2.18", "latest"])
def server(request: pytest.FixtureRequest):
    command = fake_command(seed=13, clock="realtime", speed=SPEED, api=request.param, real_deployment=True)
    with LocalServer.start(command) as live:
        yield request.param, live


def test_default_launch_with_two_nodes_runs_a_distributed_training(server, tmp_path: Path) -> None:
    api, live = server
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    env = {**os.environ, "NEMORUN_HOME": str(tmp_path)}
    ran = subprocess.run(
        [str(_nemo_python()), str(driver), live.base_url, str(tmp_path), str(WAIT_SECONDS)],
        capture_output=True,
        text=True,
        env=env,
        timeout=WAIT_SECONDS + 90,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    report: dict[str, Any] = json.loads(ran.stdout.strip().splitlines()[-1])
    assert report["phases"][-1] == "Running", report
    assert report["after_cancel"] == "Running", report  # a GET changes nothing

    base, token = live.base_url + "/api/v1", _token(live.base_url)
    job = httpx.get(f"{base}/workloads/distributed/{report['job_id']}", headers=token, timeout=10).json()
    assert job["spec"]["distributedFramework"] == "PyTorch" and job["spec"]["numWorkers"] == 2
    assert (job["spec"]["minReplicas"], job["spec"]["maxReplicas"]) == (2, 2)
    workload = httpx.get(f"{base}/workloads/{report['job_id']}", headers=token, timeout=10).json()
    assert workload["type"] == "Distributed" and workload["phase"] == "Running"
    pods = httpx.get(f"{base}/workloads/{report['job_id']}/pods", headers=token, timeout=10).json()["pods"]
    assert sorted(p["name"].rsplit("-", 2)[-2] for p in pods) == ["master", "worker", "worker"]
    assert all(p["k8sPhase"] == "Running" and p["nodeName"] for p in pods)

    # The data mover: one workspace, completed, deleted by the executor.
    deleted = httpx.get(f"{base}/workloads", params={"deleted": "true"}, headers=token, timeout=10).json()
    movers = [w for w in deleted["workloads"] if w["name"].startswith("data-mover-")]
    assert [w["type"] for w in movers] == ["Workspace"], deleted
    history = httpx.get(f"{base}/workloads/{movers[0]['id']}/history", headers=token, timeout=10).text
    assert "Completed" in history

    # What cancel() was answered: GET on the POST-only suspend path.
    answer = httpx.get(f"{base}/workloads/distributed/{report['job_id']}/suspend", headers=token, timeout=10)
    expected = 405 if "suspend" in VERSIONS[api].actions["distributed"] else 404
    assert answer.status_code == expected, answer.text
    body = answer.json()
    assert body["code"] == expected and body["message"]

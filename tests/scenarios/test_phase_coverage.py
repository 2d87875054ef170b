"""Phase coverage: every client workload is driven once through a failure while Initializing, a
preemption and a node loss, a delete shows Deleting, and the report lists the phases each went through.
On the manual clock the same calls give the same moves; a real-time server does it from `--phase-coverage`."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.backend.server import LocalServer, fake_command
from mockserver.audit.coverage import DELETING_SECONDS, Move, PhaseCoverage, markdown
from mockserver.cluster.clock import ManualClock
from mockserver.cluster.cluster import FakeCluster
from mockserver.cluster.resources import PodRequest
from mockserver.config import load_config
from mockserver.scenario.actions import Actions
from mockserver.scenario.model import scenario_from_dict
from mockserver.versions import VERSIONS
from tests.live.test_nemo_run import _token

SPEC = {"image": "x", "compute": {"gpuDevicesRequest": 1}}


def _cluster() -> tuple[FakeCluster, Actions]:
    config = load_config()
    cluster = FakeCluster(config.topology, config.timing, ManualClock(), 0)
    actions = Actions(cluster, VERSIONS["latest"])
    scenario = scenario_from_dict(
        {
            "name": "coverage",
            "steps": [
                {
                    "at": 0,
                    "submit": {"kind": "training", "body": {"name": "t", "projectId": "1", "spec": SPEC}},
                },
                {
                    "at": 0,
                    "submit": {
                        "kind": "distributed",
                        "body": {
                            "name": "d",
                            "projectId": "1",
                            "numWorkers": 1,
                            "distributedFramework": "PyTorch",
                            "spec": SPEC,
                        },
                    },
                },
            ],
        },
        "coverage.yaml",
    )
    for step in scenario.steps:
        actions.perform(step)
    cluster.submit_load(
        name="filler", project_id="3", pod=PodRequest(gpus=1), priority=100, preemptible=True, node_pools=[]
    )
    return cluster, actions


def _drive(coverage: PhaseCoverage, cluster: FakeCluster, seconds: float) -> list[tuple[float, str]]:
    said = []
    for _ in range(int(seconds * 2)):
        said += [(cluster.now(), words) for words in coverage.step()]
        cluster.advance(0.5)
    return said


def _in_order(wanted: list[str], seen: tuple[str, ...]) -> bool:
    rest = iter(seen)
    return all(any(phase == step for step in rest) for phase in wanted)


def test_each_client_workload_goes_through_every_rare_phase_and_the_report_lists_them() -> None:
    cluster, actions = _cluster()
    coverage = PhaseCoverage(cluster)
    said = _drive(coverage, cluster, 100)
    assert any("node node-default" in words and "ready again" in words for _, words in said)
    found = {w.name: w for w in coverage.report()}
    assert set(found) == {"t", "d"}  # the load is nobody's client
    for workload in found.values():
        assert workload.moves == (Move.INIT_FAILURE, Move.PREEMPTED, Move.NODE_LOSS)
        assert _in_order(
            ["Initializing", "Pending", "Running", "Terminating", "Pending", "Running"], workload.phases
        )
        assert workload.phases[-1] == "Running"  # it came back from each
    workload_id, kind = actions.aliases["t"]
    cluster.delete(workload_id, actions.caller, kind)
    cluster.advance(DELETING_SECONDS / 2)
    with cluster.reading() as reader:
        assert reader.workload(workload_id, deleted=True).actual_phase.value == "Deleting"
    page = markdown(coverage.report())
    assert "## Phase coverage" in page
    assert (
        f"| t (`{workload_id}`) | training | failed while Initializing, preempted, evicted by a node loss |"
        in page
    )
    assert "→ Running → Deleting |" in page


def test_the_same_calls_make_the_same_moves() -> None:
    runs = []
    for _ in range(2):
        cluster, _ = _cluster()
        runs.append(_drive(PhaseCoverage(cluster), cluster, 60))
    assert runs[0] == runs[1] and len(runs[0]) >= 6


def test_advances_look_in_virtual_time_and_make_the_same_moves_every_time() -> None:
    """On a manual clock the driver looks after each virtual second of an advance (no wall-clock thread):
    the same advances, big or small, make the same moves at the same virtual times."""
    runs = []
    for advances in ([1.0] * 90, [30.0] * 3, [90.0]):
        cluster, _ = _cluster()
        coverage = PhaseCoverage(cluster)
        said = [words for seconds in advances for words in coverage.advance(seconds)]
        runs.append(said)
        assert cluster.now() == ManualClock().now() + 90
    assert runs[0] == runs[1] == runs[2]
    assert any("evicted by a node loss" in words for words in runs[0])
    assert any("preempted" in words for words in runs[0])


def test_a_reset_starts_over_and_keeps_deleting_slow() -> None:
    cluster, _ = _cluster()
    coverage = PhaseCoverage(cluster)
    _drive(coverage, cluster, 30)
    assert coverage.driven
    cluster.reset()
    coverage.step()
    assert coverage.driven == {}
    assert cluster.change(lambda engine: engine.timing.deleting) == DELETING_SECONDS


@pytest.mark.slow
def test_the_server_drives_a_client_s_training_and_writes_the_coverage_at_stop(tmp_path: Path) -> None:
    report = tmp_path / "audit.md"
    base = fake_command(seed=3, clock="realtime", speed=5, api="latest", real_deployment=True)
    with LocalServer.start(lambda port: [*base(port), "--audit", str(report), "--phase-coverage"]) as live:
        api = f"{live.base_url}/api/v1"
        headers = _token(live.base_url)
        body: dict[str, Any] = {
            "name": "covered",
            "projectId": "1",
            "clusterId": "71f69d83-ba66-4822-adf5-55ce55efd210",
            "spec": SPEC,
        }
        created = httpx.post(f"{api}/workloads/trainings", json=body, headers=headers, timeout=10)
        assert created.status_code in (200, 202), created.text
        workload_id = created.json()["workloadId"]
        deadline, history = time.monotonic() + 60, ""
        while time.monotonic() < deadline and history.count("Terminating") < 2:
            time.sleep(1.0)
            history = httpx.get(f"{api}/workloads/{workload_id}/history", headers=headers, timeout=10).text
        assert history.count("Terminating") >= 2, history
        assert (
            httpx.delete(f"{api}/workloads/trainings/{workload_id}", headers=headers, timeout=10).status_code
            < 300
        )
        time.sleep(0.3)
        phase = httpx.get(f"{api}/workloads/{workload_id}", headers=headers, timeout=10).json()["phase"]
        assert phase == "Deleting"
    page = report.read_text()
    section = page.split("## Phase coverage", 1)[1]
    row = next(line for line in section.splitlines() if line.startswith("| covered"))
    assert "preempted, evicted by a node loss" in row and "Terminating → Pending" in row, page


FIXTURE_TEST = """
import httpx

def test_my_client_sees_the_rare_phases(runai_mock):
    body = {"name": "mine", "projectId": "1", "clusterId": "71f69d83-ba66-4822-adf5-55ce55efd210",
            "spec": {"image": "x", "compute": {"gpuDevicesRequest": 1}}}
    api = runai_mock.base_url + "/api/v1"
    created = httpx.post(f"{api}/workloads/trainings", json=body, headers=runai_mock.headers())
    workload_id = created.json()["workloadId"]
    seen = []
    for _ in range(160):  # on the manual clock the driver looks at every virtual second of an advance
        runai_mock.control.advance(1)
        phase = httpx.get(f"{api}/workloads/trainings/{workload_id}", headers=runai_mock.headers()).json()["actualPhase"]
        if not seen or seen[-1] != phase:
            seen.append(phase)
        if seen.count("Terminating") >= 2 and phase == "Running":
            break
    assert seen.count("Terminating") >= 2, seen
"""


@pytest.mark.slow
def test_the_fixture_option_drives_the_client_s_workloads(tmp_path: Path) -> None:
    (tmp_path / "test_mine.py").write_text(FIXTURE_TEST)
    (tmp_path / "pytest.ini").write_text("[pytest]\nrunai_mock_phase_coverage = true\n")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider", "-q", str(tmp_path)],
        capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout

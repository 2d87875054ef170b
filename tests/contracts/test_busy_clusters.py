"""`contracts run --url` against clusters that are not empty and fast: a cluster without GPUs, a project
with no room at all, and a deployment whose Deleting phase lasts (pod termination) with auto-deletion.
Each backend is our fake as a real deployment (realtime clock, no control API), configured as such."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from contracts.backend.auth import FAKE_CREDENTIALS
from contracts.backend.server import LocalServer, fake_command
from contracts.cli import EXIT_CONFORMS, EXIT_INCONCLUSIVE, main
from mockserver.config import DEFAULT_CONFIG
from tests.contracts.test_real_time import findings

pytestmark = [pytest.mark.slow, pytest.mark.spread]  # each test starts its own backends
AS_A_USER = ["--client-id", FAKE_CREDENTIALS.client_id, "--client-secret", FAKE_CREDENTIALS.client_secret]
ACCOUNTS = [{"clientId": FAKE_CREDENTIALS.client_id, "clientSecret": FAKE_CREDENTIALS.client_secret}]


def cluster(tmp_path: Path, project_quotas: dict[str, object] | None = None) -> Path:
    """One pool whose only node has CPUs and memory but no GPU; one project, quotas as given."""
    project: dict[str, object] = {
        "id": "1",
        "name": "team-a",
        "departmentId": "2",
        "defaultNodePools": ["default"],
    }
    if project_quotas is not None:
        project["quotas"] = project_quotas
    config = {
        "cluster": {"id": "71f69d83-ba66-4822-adf5-55ce55efd210", "name": "cpu-cluster"},
        "nodePools": ["default"],
        "departments": [{"id": "2", "name": "research"}],
        "projects": [project],
        "nodes": [{"name": "cpu-1", "pool": "default", "gpus": 0, "cpuMillis": 8000, "memoryMiB": 16384}],
        "accounts": ACCOUNTS,
    }
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def run(base_url: str, report_dir: Path, *extra: str) -> int:
    argv = ["run", "--url", base_url, *AS_A_USER, "--phases", "examples", "--report-dir", str(report_dir)]
    return main([*argv, *extra])


@pytest.mark.waits(35)
def test_a_cluster_without_gpus_conforms_with_minimal_trainings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    command = fake_command(seed=0, config=cluster(tmp_path), clock="realtime", speed=10, real_deployment=True)
    with LocalServer.start(command) as fake:
        assert run(fake.base_url, tmp_path / "r", "--scenario-timeout", "15") == EXIT_CONFORMS, findings(
            tmp_path / "r"
        )
    report = (tmp_path / "r" / "report.md").read_text()
    assert "| lifecycle | passed |" in report and "| every-phase | passed |" in report
    # The one scenario that needs a GPU is skipped, and says why (the scheduler's reason).
    assert "| gpu-release | skipped (needs a GPU, and the cluster has no GPU room" in report
    assert "GPUs" in report.split("| gpu-release |")[1].split("\n")[0]
    # While it waited for the GPU training, the person watching was told why.
    assert "the backend says: Unschedulable" in capsys.readouterr().err


@pytest.mark.waits(8)
def test_a_project_without_room_is_inconclusive_naming_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nothing = {"deserved": 0, "limit": 0}
    quotas = {"default": {"gpu": nothing, "cpu": nothing, "memory": nothing}}
    config = cluster(tmp_path, quotas)
    with LocalServer.start(
        fake_command(seed=0, config=config, clock="realtime", real_deployment=True)
    ) as fake:
        exit_code = run(fake.base_url, tmp_path / "r", "--max-duration", "120")
    out = capsys.readouterr().out
    assert exit_code == EXIT_INCONCLUSIVE, out
    assert "INCONCLUSIVE" in out and "no room for project team-a" in out and "OverLimit" in out
    report = (tmp_path / "r" / "report.md").read_text()
    assert report.startswith("# Contract run INCONCLUSIVE")
    assert "## Inconclusive" in report and "| lifecycle | inconclusive (the cluster had no room" in report
    # What the run read of the room before the scenarios: the quota, and how busy the project was.
    assert "| Room | project team-a, node pool default: GPU deserved 0, limit 0" in report
    assert "| Room | project team-a: workloads 0 Running, 0 Pending |" in report


@pytest.mark.waits(35)
def test_a_lasting_deleting_phase_with_auto_deletion_conforms(tmp_path: Path) -> None:
    config = yaml.safe_load(DEFAULT_CONFIG.read_text())
    config["timing"] = {**config.get("timing", {}), "deleting": 6}
    path = tmp_path / "deleting.yaml"
    path.write_text(yaml.safe_dump(config))
    # At speed 2 Deleting lasts 3 s, longer than the poll interval: the harness sees it.
    command = fake_command(seed=0, config=path, clock="realtime", speed=2, real_deployment=True)
    with LocalServer.start(command) as fake:
        exit_code = run(fake.base_url, tmp_path / "r", "--scenarios", "auto-deletion,lifecycle")
        assert exit_code == EXIT_CONFORMS, findings(tmp_path / "r")
    report = (tmp_path / "r" / "report.md").read_text()
    assert "| auto-deletion | passed |" in report
    assert "| Completed | Deleting |" in report and "| Deleting | (404) |" in report

"""The harness against backends on real time: our fake pretending to be a real deployment (realtime clock,
realistic timings, no control API, commands decide), the same behind a proxy that breaks the lifecycle,
and our fake at --speed 10 with its control API. Also: a run that is stopped is never green."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest

from contracts.backend.auth import FAKE_CREDENTIALS, TokenSource
from contracts.backend.journal import leftovers, read_entries
from contracts.backend.server import LocalServer, fake_command
from contracts.cli import main

pytestmark = [pytest.mark.slow, pytest.mark.spread]  # each test starts its own backends
ROOT = Path(__file__).resolve().parents[2]
# Fast enough for the test to take about a minute, slow enough that every realistic stage is polled.
SPEED = 5
AS_A_USER = ["--client-id", FAKE_CREDENTIALS.client_id, "--client-secret", FAKE_CREDENTIALS.client_secret]


def findings(report_dir: Path) -> set[str]:
    root = ElementTree.parse(report_dir / "junit.xml").getroot()
    texts = [failure.text or "" for failure in root.iter("failure")]
    return {match for text in texts for match in re.findall(r"^\[([^\]]+)\]", text, re.MULTILINE)}


def left_behind(base_url: str, report_dir: Path) -> list[str]:
    """Trainings the run journalled as created that the backend still serves (and not as Deleting)."""
    journals = list(report_dir.glob("journal-*.jsonl"))
    assert len(journals) == 1
    created = {e.workload_id for e in read_entries(journals[0]) if e.event == "created"}
    assert created, "the run created nothing: nothing was proven"
    assert leftovers(journals[0]) == []
    token = TokenSource(base_url, credentials=FAKE_CREDENTIALS).token()
    remaining = []
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}) as client:
        for workload_id in sorted(created):
            read = client.get(f"/api/v1/workloads/trainings/{workload_id}")
            if read.status_code == 200 and read.json().get("desiredPhase") != "Deleted":
                remaining.append(workload_id)
    return remaining


@pytest.mark.waits(36)
def test_a_fake_that_behaves_like_a_real_deployment_conforms(tmp_path: Path) -> None:
    command = fake_command(seed=0, clock="realtime", speed=SPEED, profile="realistic", real_deployment=True)
    with LocalServer.start(command) as fake:
        # Every scenario, on real time; the phases that send thousands of requests run on the manual clock
        # (tests/contracts/test_harness_vs_fake.py), where they judge the same answers.
        argv = ["run", "--url", fake.base_url, *AS_A_USER, "--phases", "examples", "--max-duration", "170"]
        assert main([*argv, "--report-dir", str(tmp_path)]) == 0, findings(tmp_path)
        assert left_behind(fake.base_url, tmp_path) == []
    report = (tmp_path / "report.md").read_text()
    assert "| lifecycle | passed |" in report and "| backoff | passed |" in report
    assert "| preemption | skipped |" in report  # needs the control API, which a real deployment lacks


@pytest.mark.waits(20)
def test_lifecycle_breakages_behind_a_proxy_are_each_reported(tmp_path: Path) -> None:
    def command(port: int) -> list[str]:
        names = "stale-desired-phase,delete-keeps-training"
        return [
            sys.executable,
            "-m",
            "tests.mutants.serve",
            names,
            "--port",
            str(port),
            "--realistic",
            str(SPEED),
        ]

    with LocalServer.start(command, cwd=ROOT) as proxy:
        # One scenario: each further one that deletes would wait out the grace period of the ignored delete.
        # The lifecycle scenario alone: its requests are where the breakages show (fuzzing adds nothing).
        # At speed 5 every realistic stage shows within a few seconds: a grace of 15 s (60 by default, for
        # a real cluster) still tells an ignored delete from a slow one.
        argv = ["run", "--url", proxy.base_url, *AS_A_USER, "--phases", "", "--scenarios", "lifecycle"]
        assert main([*argv, "--action-grace", "15", "--report-dir", str(tmp_path)]) == 1
    junit = (tmp_path / "junit.xml").read_text()
    assert "desiredPhase 'Running' after suspend" in junit  # the stale desiredPhase
    # The delete that keeps the training, reported once the grace is over.
    assert re.search(r"waiting for \(404\): still Running 1\d s after delete .*did not take effect", junit)
    assert {"TrainingLifecycle", "scenario:lifecycle"} <= findings(tmp_path)


@pytest.mark.waits(22)
def test_our_fake_at_speed_10_with_its_control_api_conforms(tmp_path: Path) -> None:
    with LocalServer.start(fake_command(seed=0, clock="realtime", speed=10)) as fake:
        argv = ["run", "--url", fake.base_url, "--phases", "examples", "--report-dir", str(tmp_path)]
        assert main(argv) == 0, findings(tmp_path)
    assert "| preemption | passed |" in (tmp_path / "report.md").read_text()


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


def start_run(argv: list[str], report_dir: Path) -> subprocess.Popen[str]:
    env = dict(os.environ)
    return subprocess.Popen(
        [sys.executable, "-m", "contracts", "run", *argv, "--report-dir", str(report_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def wait_for_line(process: subprocess.Popen[str], fragment: str, limit: float = 120) -> None:
    assert process.stderr is not None
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if fragment in line:
            return
        if not line and process.poll() is not None:
            raise AssertionError(f"the run ended before {fragment!r}")
    raise AssertionError(f"no {fragment!r} within {limit} s")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_stopped_run_with_its_own_fake_is_incomplete_and_leaves_nothing(
    signum: signal.Signals, tmp_path: Path
) -> None:
    run = start_run(["--max-examples", "50"], tmp_path)
    wait_for_line(run, "schemathesis coverage phase")
    fakes = children_of(run.pid)
    assert fakes, "the run started no fake"
    run.send_signal(signum)
    out, _ = run.communicate(timeout=120)
    assert run.returncode == 130, out
    assert "INCOMPLETE" in out and "conforms" not in out
    assert (
        (tmp_path / "report.md")
        .read_text()
        .startswith(f"# Contract run INCOMPLETE (interrupted ({signum.name})")
    )
    assert not [pid for pid in fakes if alive(pid)], "the fake the run started is still running"
    journal = next(tmp_path.glob("journal-*.jsonl"))
    assert leftovers(journal) == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_stopped_run_against_a_url_cleans_up_on_the_backend(signum: signal.Signals, tmp_path: Path) -> None:
    with LocalServer.start(fake_command(seed=0, clock="realtime", speed=SPEED)) as fake:
        # A tenth of a GPU (the default is CPU only), so that the snapshot can show what is held.
        run = start_run(
            ["--url", fake.base_url, "--scenarios", "lifecycle", "--gpu-portion", "0.1"], tmp_path
        )
        wait_for_line(run, "waiting for Stopped")  # a training exists and holds a GPU
        run.send_signal(signum)
        out, _ = run.communicate(timeout=120)
        assert run.returncode == 130, out
        suite = ElementTree.parse(tmp_path / "junit.xml").getroot().find("testsuite")
        assert suite is not None and suite.get("errors") == "1"
        assert left_behind(fake.base_url, tmp_path) == []
        snapshot = httpx.get(f"{fake.base_url}/api/mock/v1/snapshot").json()
        held = json.dumps(snapshot.get("nodes", []))
        assert "ct-" not in held  # no device still held by one of the run's trainings

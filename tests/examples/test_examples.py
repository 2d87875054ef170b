"""Every example under examples/ runs as a user would run it: as a script or a pytest run in its own
process, against a fake started the way the example's docstring says."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from contracts.backend.server import LocalServer, fake_command
from tests.conftest import REPO

EXAMPLES = REPO / "examples"
# The console scripts (`contracts`, `mockserver`) of the interpreter running the tests come first.
ENV = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def _realtime_fake(api: str) -> Iterator[LocalServer]:
    command = fake_command(seed=5, clock="realtime", speed=20, api=api, real_deployment=True)
    with LocalServer.start(command) as server:
        yield server


@pytest.fixture(scope="module")
def fake_218() -> Iterator[LocalServer]:
    """`mockserver` as the examples start it: the default API version."""
    yield from _realtime_fake("2.18")


@pytest.fixture(scope="module")
def fake_latest() -> Iterator[LocalServer]:
    """`mockserver --api latest`, the version runapy 1.224 pairs with."""
    yield from _realtime_fake("latest")


def run(*argv: str, timeout: float = 240, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv), capture_output=True, text=True, timeout=timeout, env={**ENV, **env}, cwd=REPO
    )


@pytest.mark.slow
def test_gpu_requests_places_whole_fractional_memory_and_mig(fake_218: LocalServer) -> None:
    ran = run(sys.executable, str(EXAMPLES / "gpu_requests.py"), "--url", fake_218.base_url)
    assert ran.returncode == 0, ran.stderr[-2000:]
    lines = {line.split()[0]: line for line in ran.stdout.splitlines() if line.strip()}
    assert set(lines) == {"whole-2", "half", "memory-10g", "mig-1g"}, ran.stdout
    # The MIG request lands on the MIG node; the others on ordinary GPU nodes.
    assert "node=node-mig-1" in lines["mig-1g"], ran.stdout
    assert all("node=node-mig-1" not in lines[name] for name in ("whole-2", "half", "memory-10g")), ran.stdout


@pytest.mark.slow
def test_runapy_flow_reaches_running_stopped_and_deleted(fake_latest: LocalServer) -> None:
    ran = run(sys.executable, str(EXAMPLES / "runapy_flow.py"), "--url", fake_latest.base_url)
    assert ran.returncode == 0, ran.stderr[-2000:]
    phases = [line.split()[-1] for line in ran.stdout.splitlines() if line.strip().startswith("phase")]
    assert phases[-2:] != [] and "Running" in phases and phases[-1] == "Stopped", ran.stdout
    assert "deleted (HTTP 202)" in ran.stdout, ran.stdout


def test_the_pytest_plugin_example_passes_as_a_user_runs_it() -> None:
    # -n 0: this repository's own pytest settings spread tests over workers, which a user's run would not.
    ran = run(
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-n",
        "0",
        "-p",
        "no:cacheprovider",
        str(EXAMPLES / "pytest_plugin"),
    )
    assert ran.returncode == 0, ran.stdout[-3000:]
    assert "2 passed" in ran.stdout, ran.stdout


def test_the_composite_action_passes_every_input_to_the_script() -> None:
    action = yaml.safe_load((REPO / "action.yml").read_text())
    (step,) = action["runs"]["steps"]
    assert action["runs"]["using"] == "composite"
    assert step["run"] == "$GITHUB_ACTION_PATH/examples/ci/contracts-check.sh"
    script = (EXAMPLES / "ci" / "contracts-check.sh").read_text()
    for name in action["inputs"]:
        variable = "INPUT_" + name.upper().replace("-", "_")
        assert step["env"][variable] == f"${{{{ inputs.{name} }}}}", variable
        assert variable in script, f"{variable} is passed by action.yml but never read by the script"
    workflow = yaml.safe_load((EXAMPLES / "ci" / "github-workflow.yml").read_text())
    used = [s for job in workflow["jobs"].values() for s in job["steps"] if "with" in s and "uses" in s]
    for step_used in used:
        if "runai-trainings-mock" in step_used["uses"]:
            assert set(step_used["with"]) <= set(action["inputs"]), step_used


@pytest.mark.slow
def test_the_ci_script_checks_a_live_backend_and_writes_junit(fake_218: LocalServer, tmp_path: Path) -> None:
    ran = run(
        "bash",
        str(EXAMPLES / "ci" / "contracts-check.sh"),
        RUNAI_MOCK_SKIP_INSTALL="1",
        INPUT_URL=fake_218.base_url,
        INPUT_CLIENT_ID="mock-app",
        INPUT_CLIENT_SECRET="mock-secret",
        INPUT_MAX_DURATION="120",
        INPUT_REPORT_DIR=str(tmp_path / "reports"),
        INPUT_EXTRA_ARGS="--phases examples --scenarios lifecycle --max-examples 2",
    )
    assert ran.returncode == 0, (ran.stdout[-2000:], ran.stderr[-2000:])
    junit = (tmp_path / "reports" / "junit.xml").read_text()
    assert "<testsuite" in junit and 'failures="0"' in junit, junit[:500]
    assert "mock-secret" not in ran.stdout + ran.stderr

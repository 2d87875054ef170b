"""Each runapy release against the API version it was generated from: the user flow of
tests/live/test_runapy_flows.py, unmodified, with runapy 1.218.0 … 1.224.0.

Each release is installed with its own pins in a venv of its own, cached outside the checkout
(tests/clientenv.py). The flow runs under our interpreter with only that release's `runai` package put in
front of the path (runapy's dependencies, pydantic 2, urllib3, aiohttp and dateutil, have loose lower
bounds that ours meet), so that the fake the flow starts keeps our packages.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clientenv import RUNAPY, client_python, runapy

pytestmark = [pytest.mark.slow, pytest.mark.spread]  # each release starts its own fake
REPO = Path(__file__).resolve().parents[2]


def _runai_only(python: Path, into: Path) -> Path:
    """A directory holding just the venv's `runai` package (a link), to put in front of the path. Found
    by the venv's import machinery without importing the package (an import of runapy costs seconds)."""
    found = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.util as u; print(list(u.find_spec('runai').submodule_search_locations)[0])",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    into.mkdir(parents=True, exist_ok=True)
    (into / "runai").symlink_to(Path(found.stdout.strip()))
    return into


@pytest.mark.parametrize("api", list(RUNAPY))
def test_runapy_release_runs_the_user_flow_against_its_version(api: str, tmp_path: Path) -> None:
    release = RUNAPY[api]
    # runapy 1.218 imports aiohttp_retry without declaring it (later releases declare it): pinned beside it.
    python = client_python(runapy(release))
    front = _runai_only(python, tmp_path / "front")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(front), str(REPO)]),
        "RUNAI_MOCK_RUNAPY_APIS": api,
        "RUNAI_MOCK_RUNAPY_MODELS": api,
    }
    flow = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "--slow",
        "-n",
        "0",  # one file in one process: this run is itself one of the outer run's parallel tests
        # The flow needs none of the plugins the package and its test extras install: loading them
        # (Schemathesis, Hypothesis, our fixtures') costs more than a second per release.
        *("-p", "no:randomly", "-p", "no:schemathesis", "-p", "no:hypothesispytest", "-p", "no:anyio"),
        *("-p", "no:runai_mock", "-p", "no:runai_scenarios"),
        "tests/live/test_runapy_flows.py",
    ]
    ran = subprocess.run(flow, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-2000:]
    assert "2 passed" in ran.stdout
    # The flow used this release, not ours.
    used = subprocess.run(
        [sys.executable, "-c", "import importlib.util as u; print(u.find_spec('runai').origin)"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert str(front) in used.stdout

"""Same seed, same report: from this checkout (editable install, run in the repository) and from an
installed copy (laid out as a wheel installs it, under site-packages, run from another directory).

Hypothesis used to salt generation with constants of "local" modules, which an editable install is and a
wheel is not: the two sent different requests for seed 0 (see contracts/run/determinism.py).
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
# Two scenarios stand for the rest, as in test_harness_vs_fake.py's same-seed test: what differed between
# installs was Hypothesis' generation, which every phase below exercises.
QUICK = ["--seed", "0", "--phases", "examples,fuzzing,stateful", "--max-examples", "5", "--quiet"]
QUICK += ["--scenarios", "lifecycle,preemption"]


def installed_copy(tmp_path: Path) -> Path:
    """The packages as a wheel lays them out (`spec/` inside mockserver), in a site-packages directory."""
    site = tmp_path / "venv" / "lib" / "site-packages"
    ignore = shutil.ignore_patterns("__pycache__")
    for package in ("mockserver", "contracts"):
        shutil.copytree(ROOT / package, site / package, ignore=ignore)
    shutil.copytree(ROOT / "spec", site / "mockserver" / "spec")
    return site


def run(cwd: Path, report_dir: Path, pythonpath: Path | None) -> None:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPATH", None)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    argv = [sys.executable, "-m", "contracts", "run", *QUICK, "--report-dir", str(report_dir)]
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    where = pythonpath or ROOT
    assert f"{where}" not in (report_dir / "report.md").read_text()  # nothing says where it ran from


def without_times(text: str) -> list[str]:
    return re.sub(r' time="[0-9.]+"', "", text).splitlines()


def test_an_editable_and_an_installed_copy_write_the_same_report(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    site = installed_copy(tmp_path)
    run(ROOT, tmp_path / "editable", None)
    run(elsewhere, tmp_path / "installed", site)
    for name in ("report.md", "report.html", "junit.xml"):
        first, second = (
            without_times((tmp_path / kind / name).read_text()) for kind in ("editable", "installed")
        )
        assert first == second, "\n".join(difflib.unified_diff(first, second, lineterm=""))

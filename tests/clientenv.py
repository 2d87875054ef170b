"""Virtual environments for real clients (NeMo-Run, each runapy release), cached outside the checkout.

Each client keeps its own pins, so it gets a venv of its own, built once and reused by every later run
(and by every checkout on the machine): `$RUNAI_MOCK_CLIENT_CACHE`, else `$XDG_CACHE_HOME/runai-trainings-mock/
clients`, else `~/.cache/runai-trainings-mock/clients`. A venv is ready when its marker file names exactly
the pins it was built with; a half-built one (interrupted install) is rebuilt. Two processes building the
same venv at once (pytest-xdist workers) take turns on a lock file.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

MARKER = "runai-mock-pins.txt"


def cache_root() -> Path:
    configured = os.environ.get("RUNAI_MOCK_CLIENT_CACHE")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "runai-trainings-mock" / "clients"


def client_python(name: str, pins: list[str], probe: str) -> Path:
    """The interpreter of the cached venv `name` holding `pins`; `probe` is code that must import there.
    Skips the calling test, with pip's own words, when the packages cannot be installed here."""
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    venv = root / name
    python = venv / "bin" / "python"
    wanted = "\n".join(pins) + "\n"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        marker = venv / MARKER
        if marker.is_file() and marker.read_text() == wanted and _imports(python, probe):
            return python
        shutil.rmtree(venv, ignore_errors=True)
        made = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True)
        if made.returncode != 0:
            pytest.skip(f"cannot create a venv at {venv}: {made.stderr.strip()[-300:]}")
        installed = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *pins],
            capture_output=True,
            text=True,
            timeout=1500,
        )
        if installed.returncode != 0:
            pytest.skip(f"pip cannot install {' '.join(pins)}: {installed.stderr.strip()[-400:]}")
        if not _imports(python, probe):
            pytest.skip(f"{' '.join(pins)} installed in {venv} but `{probe}` fails there")
        marker.write_text(wanted)
    return python


def _imports(python: Path, probe: str) -> bool:
    if not python.is_file():
        return False
    return subprocess.run([str(python), "-c", probe], capture_output=True).returncode == 0

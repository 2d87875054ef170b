"""Virtual environments for real clients (NeMo-Run, each runapy release), cached outside the checkout.

Each client keeps its own pins, so it gets a venv of its own, built once and reused by every later run
(and by every checkout on the machine): `$RUNAI_MOCK_CLIENT_CACHE`, else `$XDG_CACHE_HOME/runai-trainings-mock/
clients`, else `~/.cache/runai-trainings-mock/clients`. A venv is ready when its marker file names exactly
the pins it was built with, the probe that passed in it and our Python's version; a half-built one
(interrupted install, failed probe) has no marker and is rebuilt. Two processes building the
same venv at once (pytest-xdist workers) take turns on a lock file.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

MARKER = "runai-mock-pins.txt"


@dataclass(frozen=True)
class Client:
    """A client environment: its venv's name, what pip installs there, code that must then import."""

    name: str
    pins: tuple[str, ...]
    probe: str


# The runapy release generated from each API version's document (2.21: the 1.221.1 fix release).
RUNAPY = {
    "2.18": "1.218.0",
    "2.19": "1.219.0",
    "2.20": "1.220.0",
    "2.21": "1.221.1",
    "2.22": "1.222.0",
    "2.23": "1.223.0",
    "2.24": "1.224.0",
}
NEMO_RUN = Client("nemo-run-0.11.1", ("nemo-run==0.11.1", "leptonai==0.27.3"), "import nemo_run, leptonai")


def runapy(release: str) -> Client:
    return Client(f"runapy-{release}", (f"runapy=={release}", "aiohttp-retry"), "import runai")


# Every environment the suite uses: `python -m tests.clientenv` builds them before a run (CI does), so
# that the tests' time is the tests' own.
CLIENTS = (NEMO_RUN, *(runapy(release) for release in RUNAPY.values()))


def cache_root() -> Path:
    configured = os.environ.get("RUNAI_MOCK_CLIENT_CACHE")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "runai-trainings-mock" / "clients"


def client_python(client: Client) -> Path:
    """The interpreter of the client's cached venv. Skips the calling test, with pip's own words, when the
    packages cannot be installed here."""
    try:
        return build(client)
    except Unavailable as error:
        pytest.skip(str(error))


class Unavailable(Exception):
    """The client's environment cannot be built here (no venv, pip refused, the probe fails)."""


def build(client: Client) -> Path:
    """The interpreter of the client's venv, built first unless the cache already holds it."""
    name, pins, probe = client.name, list(client.pins), client.probe
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    venv = root / name
    python = venv / "bin" / "python"
    # Written once the probe has passed, so a venv with this marker needs no probe again (importing
    # NeMo-Run takes seconds, and every launch of a client would pay it). Our interpreter's version is in
    # it too: the venv was made with it, and a different one is a different venv.
    wanted = "\n".join([*pins, f"probe: {probe}", f"python: {sys.version.split()[0]}"]) + "\n"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        marker = venv / MARKER
        if marker.is_file() and marker.read_text() == wanted and python.is_file():
            return python
        shutil.rmtree(venv, ignore_errors=True)
        made = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True)
        if made.returncode != 0:
            raise Unavailable(f"cannot create a venv at {venv}: {made.stderr.strip()[-300:]}")
        installed = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *pins],
            capture_output=True,
            text=True,
            timeout=1500,
        )
        if installed.returncode != 0:
            raise Unavailable(f"pip cannot install {' '.join(pins)}: {installed.stderr.strip()[-400:]}")
        if not _imports(python, probe):
            raise Unavailable(f"{' '.join(pins)} installed in {venv} but `{probe}` fails there")
        marker.write_text(wanted)
    return python


def _imports(python: Path, probe: str) -> bool:
    if not python.is_file():
        return False
    return subprocess.run([str(python), "-c", probe], capture_output=True).returncode == 0


def main() -> int:
    """Build every client environment (two pip installs at a time); say what each took."""
    started = time.monotonic()
    print(f"client environments in {cache_root()}", flush=True)

    def one(client: Client) -> str:
        begun = time.monotonic()
        try:
            build(client)
        except Unavailable as error:
            return f"  {client.name}: NOT built: {error}"
        return f"  {client.name}: ready ({time.monotonic() - begun:.0f} s)"

    with ThreadPoolExecutor(max_workers=2) as pool:
        for line in pool.map(one, CLIENTS):
            print(line, flush=True)
    print(f"client environments: {time.monotonic() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Start a backend (our fake, or a test's broken copy of it) as a subprocess on an ephemeral loopback port."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

import httpx

from contracts import limits

HOST = "127.0.0.1"
READY_PATH = "/api/v1/openapi.json"
# Run first in the child, then replaced (exec, same pid) by the backend's command: on Linux it asks the
# kernel to SIGKILL the child when its parent dies (prctl PR_SET_PDEATHSIG, option 1, kept across exec),
# and exits if the parent died before that took effect (the child was re-parented). A launcher rather
# than subprocess's preexec_fn, which is not safe in a process with threads.
LAUNCHER = """
import ctypes, os, signal, sys
parent, argv = int(sys.argv[1]), sys.argv[2:]
try:
    ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # the C library is loaded already: no lookup
except (OSError, AttributeError):
    pass
if os.getppid() != parent:
    sys.exit(1)
os.execv(argv[0], argv)
"""


class ServerError(Exception):
    """The backend did not come up."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def fake_command(
    seed: int | None = 0,
    config: Path | None = None,
    *,
    clock: str = "manual",
    speed: float | None = None,
    profile: str | None = None,
    real_deployment: bool = False,
    api: str | None = None,
    quiet: bool = True,
) -> Callable[[int], list[str]]:
    """The command line of our fake for a port. The default is what `contracts run` wants of it: a manual
    clock, so that nothing moves unless the harness says so. `clock="realtime"`, a `speed`, the realistic
    `profile` and `real_deployment` (no control API, annotations ignored) make it behave like a Run:ai
    cluster instead. `quiet` (the default) leaves out the request log, a line per request nobody reads;
    start-up errors are still written."""

    def command(port: int) -> list[str]:
        argv = [sys.executable, "-m", "mockserver", "--host", HOST, "--port", str(port), "--clock", clock]
        if seed is not None:
            argv += ["--seed", str(seed)]
        if config is not None:
            argv += ["--config", str(config)]
        if speed is not None:
            argv += ["--speed", str(speed)]
        if profile is not None:
            argv += ["--profile", profile]
        if real_deployment:
            argv.append("--real-deployment")
        if api is not None:
            argv += ["--api", api]
        if quiet:
            argv.append("--quiet")
        return argv

    return command


def _dying_with_us(argv: list[str]) -> list[str]:
    """`argv`, started so that it does not outlive the harness.

    Its own session keeps Ctrl-C away from it, but then nothing stops it when the harness is killed
    outright (SIGKILL, the OOM killer), since no handler of ours runs. On Linux the kernel does it (see
    LAUNCHER). Strictly, the kernel acts when the *thread* that started the child ends: start servers
    from a thread that lives as long as they should (the main thread does). Elsewhere: `argv` as it is."""
    if not sys.platform.startswith("linux"):
        return argv
    executable = shutil.which(argv[0]) or argv[0]
    return [sys.executable, "-I", "-S", "-c", LAUNCHER, str(os.getpid()), executable, *argv[1:]]


@dataclass
class LocalServer:
    base_url: str
    process: subprocess.Popen[bytes]
    log: IO[bytes]

    @classmethod
    def start(
        cls, command: Callable[[int], list[str]], *, cwd: Path | None = None, timeout: float = 60.0
    ) -> LocalServer:
        """Run `command(port)` (in `cwd`, e.g. so that `python -m` finds a package) until it serves."""
        port = free_port()
        log = tempfile.TemporaryFile()  # noqa: SIM115 - owned by the server, closed in stop()
        # A session of its own: Ctrl-C in the terminal reaches the run, which then cleans up on the
        # backend before stopping it, rather than the backend dying first.
        process = subprocess.Popen(
            _dying_with_us(command(port)),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            start_new_session=True,
        )
        server = cls(base_url=f"http://{HOST}:{port}", process=process, log=log)
        try:
            server._wait_ready(timeout)
        except BaseException:
            server.stop()
            raise
        return server

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with limits.new_client(timeout=2) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    output = self.output()[-2000:]
                    raise ServerError(f"backend exited with {self.process.returncode}:\n{output}")
                try:
                    # Our own process on loopback, before the run: its readiness is setup, not part of the
                    # run's --max-duration budget (a spent budget must still report what it did not run).
                    if client.get(self.base_url + READY_PATH).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.05)
        raise ServerError(f"backend not ready after {timeout:.0f} s:\n{self.output()[-2000:]}")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        self.log.close()

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

"""Starts `mockserver` as a user would (a child process on an ephemeral loopback port) and reads its output."""

from __future__ import annotations

import os
import re
import selectors
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import IO

_BASE = re.compile(r" on (http://\S+)$")
STARTUP_SECONDS = 30


def read_line(stream: IO[str], deadline: float) -> str:
    """One line of a child's output, or '' once the deadline passes or the stream ends."""
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
            return ""
    return stream.readline()


@dataclass
class LiveServer:
    process: subprocess.Popen[str]
    base_url: str
    banner: list[str] = field(default_factory=list)

    def stop(self, timeout: float = 15) -> tuple[int, str, str]:
        """SIGTERM, then the exit code and the rest of stdout and stderr."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            out, err = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate()
        return self.process.returncode, out, err


def start(*args: str, env: dict[str, str] | None = None) -> LiveServer:
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "--port", "0", "--clock", "manual", "--seed", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    assert process.stdout is not None
    deadline = time.monotonic() + STARTUP_SECONDS
    banner: list[str] = []
    while not banner or not banner[-1].startswith("Press Ctrl-C"):
        line = read_line(process.stdout, deadline)
        if not line:
            process.kill()
            out, err = process.communicate()
            raise AssertionError(f"mockserver did not start: {''.join(banner)}{out}{err}")
        banner.append(line.rstrip("\n"))
    found = _BASE.search(banner[0])
    assert found, banner[0]
    return LiveServer(process, found.group(1), banner)

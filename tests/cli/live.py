"""Starts `mockserver` as a user would (a child process on an ephemeral loopback port) and reads its output."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import IO

_BASE = re.compile(r" on (http://\S+)$")
STARTUP_SECONDS = 60


class Reader:
    """Collects a child's stream on a thread, so waiting for a line can time out (select() on a buffered
    text stream cannot: the lines may already sit in Python's buffer)."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self.thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self.thread.start()

    def _pump(self, stream: IO[str]) -> None:
        with stream:  # closed once the child is gone: an open pipe is a ResourceWarning (an error in tests)
            for line in stream:
                self.seen.append(line)
                self.lines.put(line)
        self.lines.put(None)

    def next_line(self, deadline: float) -> str | None:
        try:
            return self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return None

    def text(self, timeout: float) -> str:
        self.thread.join(timeout)
        return "".join(self.seen)


@dataclass
class LiveServer:
    process: subprocess.Popen[str]
    base_url: str
    out: Reader
    err: Reader
    banner: list[str] = field(default_factory=list)

    def stop(self, timeout: float = 15) -> tuple[int, str, str]:
        """SIGTERM, then the exit code and everything written to stdout and stderr."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return self.process.returncode, self.out.text(timeout), self.err.text(timeout)


def start(*args: str, env: dict[str, str] | None = None) -> LiveServer:
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "--port", "0", "--clock", "manual", "--seed", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    assert process.stdout is not None and process.stderr is not None
    out, err = Reader(process.stdout), Reader(process.stderr)
    deadline = time.monotonic() + STARTUP_SECONDS
    banner: list[str] = []
    while not banner or not banner[-1].startswith("Press Ctrl-C"):
        line = out.next_line(deadline)
        if line is None:
            process.kill()
            process.wait()
            raise AssertionError(f"mockserver did not start: {out.text(5)}{err.text(5)}")
        banner.append(line.rstrip("\n"))
    found = _BASE.search(banner[0])
    assert found, banner[0]
    return LiveServer(process, found.group(1), out, err, banner)

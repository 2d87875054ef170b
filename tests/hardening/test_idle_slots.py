"""Issue 21 item 8: idle connections cannot starve active clients. With every slot held by sockets that
send nothing, a new client is still served: the idlest connection makes room for it."""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Iterator

import pytest

from contracts.backend.server import HOST, LocalServer
from mockserver.http.limits import MAX_CONNECTIONS
from tests.hardening.rawhttp import address, exchange, request_bytes

pytestmark = pytest.mark.slow  # a live server and a few hundred sockets


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    def command(port: int) -> list[str]:
        return [sys.executable, "-m", "mockserver", "--host", HOST, "--port", str(port), "--quiet",
                "--clock", "manual", "--read-timeout", "30"]  # fmt: skip

    with LocalServer.start(command) as live:
        yield live


def _closed(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def test_idle_sockets_on_every_slot_do_not_keep_a_client_out(server: LocalServer) -> None:
    idle = [socket.create_connection(address(server.base_url)) for _ in range(MAX_CONNECTIONS + 50)]
    try:
        time.sleep(0.5)  # most of them accepted (and the oldest already pushed out by the newest)
        for _ in range(5):  # repeatably, not once
            answer = exchange(server.base_url, request_bytes("GET", "/api/mock/v1/clock"), timeout=30)
            assert answer.status == 200, answer.body
        # The server closes the pushed-out sockets as it gets to them: on a busy machine that takes a
        # while, so wait for it (bounded) rather than for a fixed time.
        deadline = time.monotonic() + 30
        closed = [i for i, sock in enumerate(idle) if _closed(sock)]
        while len(closed) < 50 and time.monotonic() < deadline:
            time.sleep(0.2)
            closed = [i for i, sock in enumerate(idle) if _closed(sock)]
        # The idlest went first: the oldest sockets were closed (connections accepted in one batch share
        # a start time, so the order within a batch is loose), the newest still stand.
        assert len(closed) >= 50 and max(closed) < 100, closed
    finally:
        for sock in idle:
            sock.close()


def test_a_busy_connection_is_not_the_one_pushed_out(server: LocalServer) -> None:
    """A client in the middle of a request (headers sent, body pending) is no idle connection."""
    busy = socket.create_connection(address(server.base_url))
    busy.sendall(
        b"POST /api/mock/v1/clock/advance HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b'Content-Length: 16\r\nConnection: close\r\n\r\n{"seconds"'
    )
    time.sleep(0.2)
    idle = [socket.create_connection(address(server.base_url)) for _ in range(MAX_CONNECTIONS + 10)]
    try:
        time.sleep(0.5)
        busy.sendall(b": 1.0}")
        busy.settimeout(5)
        assert busy.recv(100).startswith(b"HTTP/1.1 200")
    finally:
        busy.close()
        for sock in idle:
            sock.close()

"""Both guarded uvicorn protocols keep the same promises: httptools serves by default, h11 is the fallback
when httptools is missing, and a fallback that nothing exercises would rot. Each runs a tiny ASGI app in a
uvicorn thread on loopback and is spoken to over raw sockets."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from mockserver.http import uvicorn_guard
from tests.hardening.rawhttp import address, exchange, request_bytes
from tests.threaded import served_in_thread

HEADER_TIMEOUT = 0.5
PROTOCOLS = {"h11": uvicorn_guard.GuardedH11Protocol, "httptools": uvicorn_guard.GuardedHttpToolsProtocol}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"12")],
        }
    )
    await send({"type": "http.response.body", "body": b'{"ok": true}'})


@pytest.fixture(scope="module", params=sorted(PROTOCOLS))
def base_url(request: pytest.FixtureRequest) -> Iterator[str]:
    settings = uvicorn_guard.guarded(HEADER_TIMEOUT)
    settings["http"] = type("Guarded", (PROTOCOLS[request.param],), {"header_timeout": HEADER_TIMEOUT})
    with served_in_thread(app, log_level="error", lifespan="off", **settings) as served:
        yield served


def read_all(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def test_a_request_is_served(base_url: str) -> None:
    answer = exchange(base_url, request_bytes("GET", "/"))
    assert answer.status == 200 and answer.json() == {"ok": True}


def test_headers_that_never_end_get_a_json_408(base_url: str) -> None:
    with socket.create_connection(address(base_url), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        received = read_all(sock)
    assert received.startswith(b"HTTP/1.1 408 Request Timeout")
    assert b'"code": 408' in received or b'"code":408' in received


def test_the_second_request_on_a_connection_gets_the_deadline_too(base_url: str) -> None:
    with socket.create_connection(address(base_url), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET / HT")
        received = read_all(sock)
    assert received.startswith(b"HTTP/1.1 200") and b"HTTP/1.1 408 Request Timeout" in received


def test_malformed_http_gets_a_json_400_and_the_connection_closes(base_url: str) -> None:
    with socket.create_connection(address(base_url), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBroken header line\r\n\r\n")
        received = read_all(sock)
    assert received.startswith(b"HTTP/1.1 400 Bad Request")
    assert b"application/json" in received and b"headers under 16 KiB" in received


def test_an_unfinished_head_over_16_kib_is_refused(base_url: str) -> None:
    """Buffered heads are bounded (h11 checks only what it buffers unfinished, so the head stays open)."""
    with socket.create_connection(address(base_url), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 20_000)
        received = read_all(sock)
    assert received.startswith(b"HTTP/1.1 400 Bad Request"), received[:200]

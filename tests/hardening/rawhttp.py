"""HTTP/1.1 over a bare socket, so a test can send what no HTTP client library would."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

# No answer may take longer than this; the server's own read timeout in these tests is 1 second.
ANSWER_TIMEOUT = 8.0


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float = field(default=0.0, compare=False)

    def json(self) -> Any:
        return json.loads(self.body)


class NoAnswer(AssertionError):
    """The server sent no complete response within the bound (or closed without one)."""


def address(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def request_bytes(
    method: str, path: str, headers: dict[str, str] | None = None, body: bytes | None = None
) -> bytes:
    """A well-formed request with `Connection: close`; a Content-Length is added for a body."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    all_headers = dict(headers or {})
    if body is not None and not any(k.lower() == "content-length" for k in all_headers):
        all_headers["Content-Length"] = str(len(body))
    lines += [f"{k}: {v}" for k, v in all_headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


def exchange(base_url: str, raw: bytes, *, timeout: float = ANSWER_TIMEOUT) -> Answer:
    """Send `raw`, keep the write side open (a slow client does not hang up) and read one response."""
    started = time.monotonic()
    with socket.create_connection(address(base_url), timeout=timeout) as sock:
        sock.sendall(raw)
        received = b""
        deadline = started + timeout
        while True:
            answer = _parse(received)
            if answer is not None:
                answer.seconds = time.monotonic() - started
                return answer
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise NoAnswer(f"no complete answer within {timeout} s; got {received[:200]!r}")
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(65536)
            except TimeoutError as error:
                raise NoAnswer(f"no complete answer within {timeout} s; got {received[:200]!r}") from error
            except ConnectionResetError as error:
                raise NoAnswer(f"connection reset; got {received[:200]!r}") from error
            if not chunk:
                raise NoAnswer(f"connection closed without a complete answer; got {received[:200]!r}")
            received += chunk


def _parse(data: bytes) -> Answer | None:
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep:
        return None
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    if len(rest) < length:
        return None
    return Answer(int(status_line.split()[1]), headers, rest[:length])

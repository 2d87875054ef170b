"""One line per request on stdout: time, method, path, status, latency, workload id, caller.

The line is written when the response has been sent, so the status and latency are what the client
saw, including errors answered by outer middleware. The caller is the application the bearer token
authenticates (its signature checked, as the API checks it): a forged or foreign token logs no caller.

The log is data, not a terminal script: the path and query are written percent-encoded as on the
wire, so a `%0a` cannot start a fake line, and ESC or OSC sequences cannot reach the terminal; every
other value is escaped the same way (`printable`).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO
from urllib.parse import quote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.http.middleware import REPLAYING

_WORKLOAD_IN_PATH = re.compile(
    r"/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
)
# A create answer names the new training only in its body; nothing else needs the body read.
_CREATES = {("POST", "/api/v1/workloads/trainings"), ("POST", "/api/mock/v1/workloads")}
_MAX_PEEK = 64 * 1024
MAX_LOGGED_PATH = 1000


@dataclass
class LoggedRequest:
    method: str
    path: str
    status: int
    seconds: float
    workload_id: str | None
    caller: str | None

    def line(self, at: float) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(at)) + f".{int(at % 1 * 1000):03d}"
        return (
            f"{stamp} {self.method:<7} {self.path} {self.status} {self.seconds * 1000:.1f}ms "
            f"workload={self.workload_id or '-'} caller={self.caller or '-'}"
        )


# Kept as they are in a logged path or query: what RFC 3986 allows unencoded there (and `%` itself).
_PATH_SAFE = "/:@!$&'()*+,;=-._~%?"


def printable(text: str) -> str:
    """`text` with every character that is not printable ASCII (and the space) percent-encoded."""
    return quote(text, safe=_PATH_SAFE)


def _path(path: str) -> str:
    # The ASGI path is decoded: a literal % in it was sent as %25, and is logged so again.
    return quote(path, safe=_PATH_SAFE.replace("%", "").replace("?", ""))


def caller_of(headers: dict[bytes, bytes], identify: Callable[[str], str | None]) -> str | None:
    """The application the bearer token authenticates; None without a token that does."""
    scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or token.count(".") != 2:
        return None
    caller = identify(token.strip())
    return None if caller is None else printable(caller)


def _created_id(body: bytes) -> str | None:
    try:
        created = json.loads(body)
    except ValueError:
        return None
    workload = created.get("workloadId") if isinstance(created, dict) else None
    return printable(workload) if isinstance(workload, str) else None


class RequestLog:
    """ASGI middleware writing one line per HTTP request to `sink`."""

    def __init__(
        self,
        app: ASGIApp,
        sink: TextIO,
        identify: Callable[[str], str | None],
        now: Callable[[], float] = time.time,
    ) -> None:
        """`identify`: the client id a bearer token authenticates, None if it does not."""
        self.app, self.sink, self.identify, self.now = app, sink, identify, now

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get(REPLAYING):  # a --state replay at start is no traffic
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method, path = scope["method"], scope["path"]
        query = printable(scope.get("query_string", b"").decode("latin-1"))
        found = _WORKLOAD_IN_PATH.search(path)
        shown = f"{_path(path)}?{query}" if query else _path(path)
        entry = LoggedRequest(
            method=printable(method),
            # A line stays a line one can read: 5,000 digits of a cursor are not worth a screen.
            path=shown if len(shown) <= MAX_LOGGED_PATH else shown[:MAX_LOGGED_PATH] + "…",
            status=0,
            seconds=0.0,
            workload_id=found.group(1) if found else None,
            caller=caller_of(dict(scope["headers"]), self.identify),
        )
        peek = (method, path.rstrip("/")) in _CREATES
        body = bytearray()

        async def logged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry.status = message["status"]
            elif message["type"] == "http.response.body" and peek and len(body) < _MAX_PEEK:
                body.extend(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, logged_send)
        finally:
            entry.seconds = time.perf_counter() - started
            if peek and entry.workload_id is None and 200 <= entry.status < 300:
                entry.workload_id = _created_id(bytes(body))
            self._write(entry)

    def _write(self, entry: LoggedRequest) -> None:
        try:
            self.sink.write(entry.line(self.now()) + "\n")
            self.sink.flush()
        except (OSError, ValueError):  # a closed or broken stdout must not fail the request
            pass

"""One line per request on stdout: time, method, path, status, latency, workload id, caller.

The line is written when the response has been sent, so the status and latency are what the client
saw, including errors answered by outer middleware. The caller is read from the bearer token's `sub`
claim without checking the signature: the log reports who the client says it is, the API decides
whether to believe it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.jsonsafe import loads
from mockserver.middleware import REPLAYING

_WORKLOAD_IN_PATH = re.compile(
    r"/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
)
# A create answer names the new training only in its body; nothing else needs the body read.
_CREATES = {("POST", "/api/v1/workloads/trainings"), ("POST", "/api/mock/v1/workloads")}
_MAX_PEEK = 64 * 1024


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


def caller_of(headers: dict[bytes, bytes]) -> str | None:
    """The `sub` claim of a bearer JWT, unverified; None when there is no readable one."""
    scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or token.count(".") != 2:
        return None
    payload = token.split(".")[1]
    try:
        # jsonsafe: a payload nested 3,000 deep made json.loads raise RecursionError here (a 500).
        claims = loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)), max_depth=4)
    except (binascii.Error, ValueError):
        return None
    sub = claims.get("sub") if isinstance(claims, dict) else None
    # Unverified: a forged sub with line breaks would write fake lines into the log.
    return sub if isinstance(sub, str) and sub.isprintable() else None


def _created_id(body: bytes) -> str | None:
    try:
        created = json.loads(body)
    except ValueError:
        return None
    workload = created.get("workloadId") if isinstance(created, dict) else None
    return workload if isinstance(workload, str) else None


class RequestLog:
    """ASGI middleware writing one line per HTTP request to `sink`."""

    def __init__(self, app: ASGIApp, sink: TextIO, now: Callable[[], float] = time.time) -> None:
        self.app, self.sink, self.now = app, sink, now

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get(REPLAYING):  # a --state replay at start is no traffic
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method, path = scope["method"], scope["path"]
        query = scope.get("query_string", b"").decode("latin-1")
        found = _WORKLOAD_IN_PATH.search(path)
        entry = LoggedRequest(
            method=method,
            path=f"{path}?{query}" if query else path,
            status=0,
            seconds=0.0,
            workload_id=found.group(1) if found else None,
            caller=caller_of(dict(scope["headers"])),
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

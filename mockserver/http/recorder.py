"""The request journal's hook at the HTTP edge: one tuple per answered Run:ai API request.

It sits outside every other middleware but the `Date` header, so what it records is what the client saw
(errors answered by outer layers included). The control API and the dashboard are not recorded: the
journal is about what a client of the Run:ai API sent. Per request it costs a route lookup the edge has
made anyway, a regular-expression search of the path, a dictionary lookup of the token and one tuple;
a bearer token is verified once, the first time it is seen, and its caller and `exp` remembered.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable, Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.http.auth import TokenRejected, TokenService
from mockserver.http.middleware import API_PREFIX, REPLAYING
from mockserver.http.routes import Routes
from mockserver.requests_ring import RequestRing

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_WORKLOAD_IN_PATH = re.compile(rf"/({_UUID})")
_WORKLOAD_IN_BODY = re.compile(rf'"workloadId"\s*:\s*"({_UUID})"'.encode())
_MAX_PEEK = 16 * 1024
# A path kept in the ring is cut here: ten thousand entries stay a few megabytes whatever clients send.
MAX_RECORDED_PATH = 1000
# Tokens remembered (a client holds a few); past this many the memory starts over.
MAX_KNOWN_TOKENS = 4096


class KnownTokens:
    """The caller and expiry of each token of ours seen so far, verified once."""

    def __init__(self, tokens: TokenService) -> None:
        self.tokens = tokens
        self._known: dict[bytes, tuple[str, float]] = {}

    def caller(self, header: bytes, now: float) -> tuple[str | None, bool, bool]:
        """(caller, bearer sent, token past its exp at `now`) for an Authorization header."""
        known = self._known.get(header)  # the header's bytes as sent: no decoding on the way of a request
        if known is None:
            scheme, _, token = header.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer":
                return None, False, False
            try:
                principal = self.tokens.verify(token.strip())
            except TokenRejected:
                return None, True, False
            if len(self._known) >= MAX_KNOWN_TOKENS:
                self._known.clear()
            known = self._known[header] = (principal.client_id, _expiry(token.strip()))
        return known[0], True, now >= known[1]


def _expiry(token: str) -> float:
    """The `exp` of a token `TokenService.verify` accepted (so its payload is well-formed)."""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return float(claims["exp"])


class RequestRecorder:
    """ASGI middleware appending each answered Run:ai API request to the ring."""

    def __init__(
        self,
        app: ASGIApp,
        ring: RequestRing,
        routes: Routes,
        tokens: TokenService,
        virtual_now: Callable[[], float],
    ) -> None:
        self.app, self.ring, self.routes, self.virtual_now = app, ring, routes, virtual_now
        self.known = KnownTokens(tokens)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(API_PREFIX) or scope.get(REPLAYING):
            await self.app(scope, receive, send)
            return
        wall_at, started, virtual_at = time.time(), time.perf_counter(), self.virtual_now()
        operation = self.routes.for_request(scope)
        found = _WORKLOAD_IN_PATH.search(path)
        # A create names its workload only in the answer: peek there (a POST on a path of no parameter).
        peek = (
            found is None
            and operation is not None
            and operation.method == "POST"
            and "{" not in operation.path
        )
        status, body, retry_after = 0, bytearray(), None

        async def recorded_send(message: Message) -> None:
            nonlocal status, retry_after
            if message["type"] == "http.response.start":
                status = message["status"]
                if status in (429, 503):  # the audit checks that a client waits as long as it was told
                    retry_after = _retry_after(message.get("headers", ()))
            elif peek and message["type"] == "http.response.body" and len(body) < _MAX_PEEK:
                body.extend(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, recorded_send)
        finally:
            workload = found.group(1) if found else None
            if peek and 200 <= status < 300 and (created := _WORKLOAD_IN_BODY.search(body)):
                workload = created.group(1).decode("ascii")
            header = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
            caller, bearer, expired = self.known.caller(header, wall_at)
            self.ring.add(
                (
                    self.ring.next_seq(),
                    wall_at,
                    time.perf_counter() - started,
                    virtual_at,
                    scope["method"][:16],
                    path if len(path) <= MAX_RECORDED_PATH else path[:MAX_RECORDED_PATH] + "…",
                    operation.operation_id if operation is not None else "",
                    workload,
                    status,
                    caller,
                    bearer,
                    expired,
                    retry_after,
                )
            )


def _retry_after(headers: Iterable[tuple[bytes, bytes]]) -> float | None:
    """The delay-seconds form of `Retry-After` (the one the fake sends), else None."""
    value = next((v for k, v in headers if k.lower() == b"retry-after"), None)
    return float(value) if value is not None and value.strip().isdigit() else None

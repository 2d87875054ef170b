"""The token endpoint slows down a client that keeps failing: credential guessing at 50 tries a second,
not 1,700.

A cell-rate limit on *refused* grants per client address (a granted token gives its try back, so a
client that signs in as it should is never slowed). Within the burst a refused grant costs nothing;
beyond it each request waits its turn (reserved before it runs, so parallel guesses queue behind one
another), and a client that would wait more than a second is answered 503 with `Retry-After` — the
token operation declares 503, not 429. Everything on loopback is one client: a harness fuzzing the
token endpoint hits the burst rarely and then waits milliseconds.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.http.errorbody import error_bytes

TOKEN_PATH = "/api/v1/token"
REFUSED_PER_SECOND = 50.0
BURST = 100
MAX_WAIT_SECONDS = 1.0
# Client addresses remembered at once; idle ones are forgotten first.
MAX_CLIENTS = 10_000


class TokenRateLimit:
    def __init__(
        self,
        app: ASGIApp,
        rate: float = REFUSED_PER_SECOND,
        burst: int = BURST,
        max_wait: float = MAX_WAIT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app, self.interval, self.burst, self.clock = app, 1.0 / rate, burst, clock
        self.max_wait = max_wait
        self._due: dict[str, float] = {}  # per client: when its next try would be due at the rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].rstrip("/") != TOKEN_PATH:
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("?", 0))[0]
        now = self.clock()
        due = max(self._due.get(client, now), now)
        wait = due - now - self.burst * self.interval
        if wait > self.max_wait:
            await _busy(send, wait)
            return
        self._remember(client, due + self.interval, now)
        if wait > 0:
            await asyncio.sleep(wait)
        granted = False

        async def watched(message: Message) -> None:
            nonlocal granted
            if message["type"] == "http.response.start":
                granted = 200 <= message["status"] < 300
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            if granted:  # signing in as one should costs nothing
                self._due[client] = self._due.get(client, now) - self.interval

    def _remember(self, client: str, due: float, now: float) -> None:
        if client not in self._due and len(self._due) >= MAX_CLIENTS:
            for stale in [c for c, d in self._due.items() if d <= now] or [next(iter(self._due))]:
                del self._due[stale]
        self._due[client] = due


async def _busy(send: Send, wait: float) -> None:
    retry = max(1, math.ceil(wait))
    body = error_bytes(503, f"Too many refused token requests from this client; try again in {retry} s")
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(retry).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

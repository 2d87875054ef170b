"""The `Date` header of every answer, from the fake's virtual clock.

Clients and the harness compare `createdAt` and friends with the server's own idea of now; on a fast
(`--speed`) or manual clock that is the virtual clock, not the wall. uvicorn's own Date header is turned
off where the server starts, so this is the only one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from email.utils import formatdate

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class VirtualDate:
    def __init__(self, app: ASGIApp, now: Callable[[], float]) -> None:
        self.app, self.now = app, now
        self._second, self._header = -1, b""  # the header names whole seconds: format each second once

    def _date(self) -> bytes:
        second = math.floor(self.now())
        if second != self._second:
            self._second, self._header = second, formatdate(second, usegmt=True).encode("ascii")
        return self._header

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def dated(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                headers.append((b"date", self._date()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, dated)

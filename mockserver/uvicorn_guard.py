"""uvicorn settings that bound slow and numerous clients.

uvicorn waits for a request's headers for ever (its keep-alive timer stops at the first byte) and
answers its own few errors in plain text. `GuardedH11Protocol` gives every request a deadline for its
request line and headers (408 `{code, message}`, then the connection closes) and answers malformed
HTTP with a JSON 400. The body's deadline is the app's (`BodyGuard`), where the 408 can be a normal
response. Concurrency beyond `MAX_CONNECTIONS` is uvicorn's own 503 (plain text, before the app).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from mockserver.limits import HEADER_TIMEOUT_SECONDS, MAX_CONNECTIONS

# Seconds an idle keep-alive connection stays open between requests.
KEEP_ALIVE_SECONDS = 5


def raw_error(status: int, reason: str, message: str) -> bytes:
    """A complete HTTP/1.1 error response that closes the connection, written before h11 has a request."""
    body = json.dumps({"code": status, "message": message}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class GuardedH11Protocol(H11Protocol):
    header_timeout: float = HEADER_TIMEOUT_SECONDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_headers()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.IDLE:
            self._await_headers()  # still no complete request line and headers: the deadline keeps running
        else:
            self._headers_arrived()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # uvicorn's keep-alive timer stops at the next request's first byte; ours runs until its headers end.
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._await_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._headers_arrived()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        self._headers_arrived()
        self.transport.write(raw_error(400, "Bad Request", f"{msg} Send HTTP/1.1 with headers under 16 KiB."))
        self.transport.close()

    def _await_headers(self) -> None:
        if self._header_deadline is None:
            self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _headers_arrived(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self.conn.our_state is h11.IDLE:
            message = f"Request line and headers not received within {self.header_timeout:g} seconds"
            self.transport.write(raw_error(408, "Request Timeout", message))
        self.transport.close()


def guarded(header_timeout: float = HEADER_TIMEOUT_SECONDS) -> dict[str, Any]:
    """uvicorn.Config settings that bound slow and numerous clients; merge them into any Config."""
    protocol = type("GuardedH11", (GuardedH11Protocol,), {"header_timeout": header_timeout})
    return {
        "http": protocol,
        "limit_concurrency": MAX_CONNECTIONS,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
    }

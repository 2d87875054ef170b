"""uvicorn settings that bound slow and numerous clients.

uvicorn waits for a request's headers for ever (its keep-alive timer stops at the first byte) and
answers its own few errors in plain text. `GuardedH11Protocol` gives every request a deadline for its
request line and headers (408 `{code, message}`, then the connection closes) and answers malformed
HTTP with a JSON 400. The body's deadline is the app's (`BodyGuard`), where the 408 can be a normal
response. When `MAX_CONNECTIONS` are open, a new connection closes the one that has waited longest
for a request (`make_room`): 500 idle sockets used to take every slot and have everyone answered 503
for 10 s; now they only push one another out. Requests running at once beyond the bound are still
uvicorn's own 503.
`GuardedHttpToolsProtocol` does the same on httptools (llhttp, C), which parses several times faster than
h11 (pure Python); it adds the two checks llhttp leaves out: a head over 16 KiB and HTTP/1.1 without Host.
`guarded()` picks it when httptools is installed.
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

try:
    import httptools
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools is a dependency; h11 remains the fallback
    HttpToolsProtocol = None  # type: ignore[assignment,misc]

from mockserver.http.errorbody import error_bytes
from mockserver.http.limits import HEADER_TIMEOUT_SECONDS, MAX_CONNECTIONS

if TYPE_CHECKING:  # the mixin below calls the protocol methods uvicorn's classes define
    _ProtocolBase = asyncio.Protocol
else:
    _ProtocolBase = object

# Seconds an idle keep-alive connection stays open between requests.
KEEP_ALIVE_SECONDS = 5
# The most of a request line and headers buffered (h11's own bound, kept on httptools).
MAX_HEAD_BYTES = 16 * 1024
MALFORMED_HINT = "Send HTTP/1.1 with headers under 16 KiB."


def raw_error(status: int, reason: str, message: str) -> bytes:
    """A complete HTTP/1.1 error response that closes the connection, written before h11 has a request."""
    body = error_bytes(status, message)
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


def make_room(new: Any, connections: set[Any], limit: int) -> None:
    """Close the connections idle longest (waiting for a request) so that `new` leaves a slot free: uvicorn
    refuses a request with a 503 once `limit` connections are open. Busy connections are never closed."""
    excess = len(connections) - limit + 1
    if excess <= 0:
        return
    idle = [c for c in connections if c is not new and getattr(c, "idle_since", None) is not None]
    idle.sort(key=lambda c: c.idle_since)
    for connection in idle[:excess]:
        connection.idle_since = None
        connection.transport.close()
        # Out of the count now: its connection_lost may come after the new connection's first request.
        connections.discard(connection)


class HeadDeadline(_ProtocolBase):
    """The deadline for a request line and headers, and the JSON 400, shared by both protocols. A
    protocol says when it is between requests (`_waiting_for_head`) and whether nothing of a response
    has been written yet (`_may_answer`)."""

    header_timeout: float = HEADER_TIMEOUT_SECONDS
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    connections: set[Any]

    def _init_deadline(self) -> None:
        self._header_deadline: asyncio.TimerHandle | None = None
        self.idle_since: float | None = None  # waiting for a request since then (loop time)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._await_headers()
        make_room(self, self.connections, MAX_CONNECTIONS)

    def connection_lost(self, exc: Exception | None) -> None:
        self._headers_arrived()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        self._headers_arrived()
        self.transport.write(raw_error(400, "Bad Request", f"{msg} {MALFORMED_HINT}"))
        self.transport.close()

    def _begin_wait(self) -> None:
        """Reset per-head counters as a new wait for a request begins."""

    def _waiting_for_head(self) -> bool:
        raise NotImplementedError

    def _may_answer(self) -> bool:
        raise NotImplementedError

    def _await_headers(self) -> None:
        if self._header_deadline is None:
            self._begin_wait()
            self.idle_since = self.loop.time()
            self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _headers_arrived(self) -> None:
        self.idle_since = None
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if self.transport.is_closing() or not self._waiting_for_head():
            return
        if self._may_answer():
            message = f"Request line and headers not received within {self.header_timeout:g} seconds"
            self.transport.write(raw_error(408, "Request Timeout", message))
        self.transport.close()


class GuardedH11Protocol(HeadDeadline, H11Protocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._init_deadline()

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

    def _waiting_for_head(self) -> bool:
        return self.conn.their_state is h11.IDLE

    def _may_answer(self) -> bool:
        return self.conn.our_state is h11.IDLE


# A request method is an HTTP token; the longest standard one is 17 characters.
_METHOD = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32} ")
_KNOWN_METHODS: dict[bytes, bool] = {}


def _llhttp_knows(method: bytes) -> bool:
    """llhttp parses only the methods it was built with; h11 (and the app's 405) takes any token."""
    if method not in _KNOWN_METHODS:
        try:
            httptools.HttpRequestParser(object()).feed_data(method + b" / HTTP/1.1\r\n")
            _KNOWN_METHODS[method] = True
        except httptools.HttpParserError:
            _KNOWN_METHODS[method] = False
    return _KNOWN_METHODS[method]


class HeadRefused(Exception):
    """Raised inside a parser callback: httptools turns it into a parse error, answered with a JSON 400."""


if HttpToolsProtocol is not None:

    class GuardedHttpToolsProtocol(HeadDeadline, HttpToolsProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._init_deadline()
            self._head_bytes = 0  # of the current request's head, as parsed
            self._raw_head = 0  # bytes received while waiting for a head
            self._in_head = False  # a request has begun and its headers have not ended
            self._idle = True  # no request begun since the last one was read whole
            self._has_host = False
            self._unknown_method: str | None = None  # the method of a request llhttp is shown as GET

        def data_received(self, data: bytes) -> None:
            if self._header_deadline is not None:
                if self._idle and not self._in_head:
                    data = self._known_method(data)
                self._raw_head += len(data)
            super().data_received(data)
            # llhttp buffers a header line however long it grows: bound the unfinished head here.
            if self._in_head and self._raw_head > MAX_HEAD_BYTES and not self.transport.is_closing():
                self.send_400_response("Request head too large.")

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._in_head, self._idle, self._has_host, self._head_bytes = True, False, False, 0

        def on_url(self, url: bytes) -> None:
            self._count(len(url))
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._count(len(name) + len(value) + 4)
            self._has_host = self._has_host or name.lower() == b"host"
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            self._in_head = False
            self._headers_arrived()
            if self.parser.get_http_version() == "1.1" and not self._has_host:
                raise HeadRefused("HTTP/1.1 request without a Host header.")
            super().on_headers_complete()
            if self._unknown_method is not None:  # the app sees the method sent (and answers 405)
                self.scope["method"], self._unknown_method = self._unknown_method, None

        def _known_method(self, data: bytes) -> bytes:
            """A request line whose method llhttp does not know, shown to it as GET (see on_headers_complete)."""
            match = _METHOD.match(data)
            if match is None or _llhttp_knows(match.group()[:-1]):
                return data
            self._unknown_method = match.group()[:-1].decode("ascii")
            return b"GET " + data[match.end() :]

        def on_message_complete(self) -> None:
            self._idle = True
            super().on_message_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            # uvicorn's keep-alive timer stops at the next request's first byte; ours runs until its headers end.
            if not self.transport.is_closing() and not self.pipeline and (self._idle or self._in_head):
                self._await_headers()

        def _count(self, size: int) -> None:
            self._head_bytes += size
            if self._head_bytes > MAX_HEAD_BYTES:
                raise HeadRefused("Request head too large.")

        def _begin_wait(self) -> None:
            self._raw_head = 0

        def _waiting_for_head(self) -> bool:
            return self._in_head or self._idle

        def _may_answer(self) -> bool:
            return self.cycle is None or self.cycle.response_complete


def guarded(header_timeout: float = HEADER_TIMEOUT_SECONDS) -> dict[str, Any]:
    """uvicorn.Config settings that bound slow and numerous clients; merge them into any Config."""
    base = GuardedHttpToolsProtocol if HttpToolsProtocol is not None else GuardedH11Protocol
    protocol = type("Guarded", (base,), {"header_timeout": header_timeout})
    return {
        "http": protocol,
        "limit_concurrency": MAX_CONNECTIONS,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        # The fake serves no WebSocket: an upgrade request is answered as the plain HTTP request it also
        # is, by the app in JSON, instead of uvicorn's empty plain-text 403.
        "ws": "none",
    }

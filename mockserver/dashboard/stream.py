"""`GET /api/mock/v1/stream`: the cluster as Server-Sent Events, for the dashboard (and `curl -N`).

Served by a middleware, outside the control API's contract: an endless stream can be neither tried in
Swagger UI nor fuzzed (Schemathesis would wait on every example).

A stream starts with the whole state once and then follows the cluster's hub (`hub.py`), which looks at
the cluster a few times a second for every stream together and hands each the same frames:

- `snapshot`: the cluster as the control API's snapshot shows it, but with every kind of workload a client
  submitted under `workloads` (each row with its `type` and recent phase history) — on connect and after
  a reset;
- `delta`: what changed since the last frame: `upsert` (rows of workloads, loads, jobs, nodes, projects,
  departments, by their ids) and `remove` (ids), and the virtual time `now`;
- `events`: the new entries of the event log (the SSE `id` is the last sequence number, so a
  reconnecting browser resumes where it stopped);
- `clock`: the virtual time, once a second while it runs by itself;
- `reset`: the cluster was reset; the log starts again from 1.

Streams are bounded apart from API connections: at most `MAX_STREAMS` at once (503 beyond, with the
connection closed, so dashboards never hold the slots API clients need); a stream whose client stops
reading (`MAX_QUEUED` frames waiting) or that had nothing to tell for `IDLE_SECONDS` ends, and the
dashboard reconnects.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from urllib.parse import parse_qs

from starlette.responses import JSONResponse, StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.cluster.cluster import FakeCluster
from mockserver.dashboard import hub as hubs
from mockserver.dashboard.hub import dashboard_event, frame
from mockserver.http.digits import plain_int
from mockserver.http.errorbody import error_body

STREAM_PATH = "/api/mock/v1/stream"

WAKE_SECONDS = 1.0  # a stream with nothing to send looks at the stop flag this often
KEEPALIVE_SECONDS = 15  # a comment line now and then keeps proxies from closing a quiet stream
RETRY_MS = 2000
MAX_STREAMS = 32
MAX_QUEUED = 200
IDLE_SECONDS = 600.0
# Set when the process stops: open streams end within a second, so the server's graceful stop does not
# wait for them (they never end by themselves). One server per process, hence one flag per process.
_closing = threading.Event()


def close_streams() -> None:
    _closing.set()


async def cluster_stream(cluster: FakeCluster, after: int) -> AsyncIterator[str]:
    hub = hubs.hub_for(cluster)
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    hub.subscribe(queue)
    # The state and the history as of the hub's last tick, taken together: the queue has what follows.
    opening = [f"retry: {RETRY_MS}\n\n", frame("snapshot", hub.state.snapshot())]
    backlog = hub.backlog(after)
    if backlog:
        opening.append(frame("events", [dashboard_event(e) for e in backlog], backlog[-1].seq))
    try:
        for text in opening:
            yield text
        quiet = waited = 0.0
        while not _closing.is_set():
            try:
                item: str | None = await asyncio.wait_for(queue.get(), timeout=WAKE_SECONDS)
            except TimeoutError:
                quiet, waited = quiet + WAKE_SECONDS, waited + WAKE_SECONDS
                if quiet >= IDLE_SECONDS:
                    return  # nothing to tell for long: the slot goes back; a dashboard reconnects
                if waited >= KEEPALIVE_SECONDS:
                    waited = 0.0
                    yield ": keep-alive\n\n"
                continue
            if item is None or queue.qsize() > MAX_QUEUED:
                return  # the client does not keep up: it reconnects and starts from a snapshot
            if "event: clock" not in item[:40]:
                quiet = 0.0
            waited = 0.0
            yield item
    finally:
        hub.unsubscribe(queue)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(status, message), status_code=status, headers=headers)


def start_after(scope: Scope) -> int | None:
    """Where the stream begins: `Last-Event-ID` (a reconnecting browser), else `?after=`; None if malformed."""
    last_id = dict(scope.get("headers", [])).get(b"last-event-id", b"").decode("latin-1").strip()
    if last_id:
        return plain_int(last_id)
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("after", ["0"])
    return plain_int(values[-1])


class EventStream:
    """Answers `GET /api/mock/v1/stream`; everything else goes on to the app."""

    def __init__(self, app: ASGIApp, cluster: FakeCluster) -> None:
        self.app, self.cluster = app, cluster
        self.open = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").rstrip("/") != STREAM_PATH:
            await self.app(scope, receive, send)
            return
        if scope["method"] != "GET":
            refused = _error(405, f"Method {scope['method']} is not allowed here; use GET", {"Allow": "GET"})
            await refused(scope, receive, send)
            return
        after = start_after(scope)
        if after is None:
            refused = _error(
                400, "after and Last-Event-ID must be non-negative integers (event sequence numbers)"
            )
            await refused(scope, receive, send)
            return
        if self.open >= MAX_STREAMS:
            # Closed after the answer: a refused dashboard must not keep a connection API clients need.
            headers = {"Retry-After": str(RETRY_MS // 1000), "Connection": "close"}
            refused = _error(
                503, f"{MAX_STREAMS} event streams are open, the most this server keeps", headers
            )
            await refused(scope, receive, send)
            return
        response = StreamingResponse(
            cluster_stream(self.cluster, after),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        self.open += 1
        try:
            await response(scope, receive, send)
        finally:
            self.open -= 1

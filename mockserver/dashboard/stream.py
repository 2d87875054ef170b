"""`GET /api/mock/v1/stream`: the cluster as Server-Sent Events, for the dashboard (and `curl -N`).

Served by a middleware, outside the control API's contract: an endless stream can be neither tried in
Swagger UI nor fuzzed (Schemathesis would wait on every example).

One connection replaces polling: the server looks at the cluster a few times a second (cheap: the
event log's tail and the clock) and sends only what changed:

- `snapshot`: the control API's snapshot, each training with its phase history, after any new event,
  a manual clock move or a reset;
- `events`: the new entries of the event log (the SSE `id` is the last sequence number, so a
  reconnecting browser resumes where it stopped);
- `clock`: the virtual time, once a second while it runs by itself;
- `reset`: the cluster was reset; the log starts again from 1.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from starlette.responses import JSONResponse, StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.cluster.clock import isoformat
from mockserver.cluster.cluster import FakeCluster
from mockserver.cluster.events import Event
from mockserver.digits import plain_int
from mockserver.errorbody import error_body
from mockserver.views.control import clock_view, event_view, snapshot_view

STREAM_PATH = "/api/mock/v1/stream"

TICK_SECONDS = 0.25
CLOCK_EVERY_TICKS = 4
KEEPALIVE_EVERY_TICKS = 60  # a comment line now and then keeps proxies from closing an idle stream
BACKLOG = 500  # events sent on connect: enough history for the page, bounded for a long-lived server
RETRY_MS = 2000
# Set when the process stops: open streams end within a tick, so the server's graceful stop does not wait
# for them (they never end by themselves). One server per process, hence one flag per process.
_closing = threading.Event()


def close_streams() -> None:
    _closing.set()


def frame(kind: str, data: Any, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def dashboard_snapshot(cluster: FakeCluster) -> dict[str, Any]:
    """The control API's snapshot, each training with its phase history (the table's timeline)."""
    state = snapshot_view(cluster)
    histories = {
        t.workload_id: [
            {"time": isoformat(change.time), "phase": change.phase.value, "reason": change.reason}
            for change in t.history
        ]
        for t in cluster.trainings()
    }
    for training in state["trainings"]:
        training["history"] = histories.get(training["workloadId"], [])
    return state


@dataclass
class Cursor:
    """Where one stream is in the event log, and how it notices a reset (the log starts again at 1)."""

    seq: int
    last: Event | None = None
    now: float | None = None

    def was_reset(self, cluster: FakeCluster, now: float) -> bool:
        if self.now is not None and now < self.now:
            return True
        if self.last is None:
            return False
        # The event we saw last is still at its place unless the log was cleared.
        same = cluster.events_after(self.last.seq - 1, 1)
        return not same or same[0] != self.last


async def cluster_stream(cluster: FakeCluster, after: int) -> AsyncIterator[str]:
    yield f"retry: {RETRY_MS}\n\n"
    backlog = cluster.events_after(after, 1_000_000)[-BACKLOG:]
    cursor = Cursor(seq=after, now=cluster.now())
    yield frame("snapshot", dashboard_snapshot(cluster))
    if backlog:
        cursor.seq, cursor.last = backlog[-1].seq, backlog[-1]
        yield frame("events", [event_view(e) for e in backlog], cursor.seq)
    tick = 0
    while not _closing.is_set():
        await asyncio.sleep(TICK_SECONDS)
        tick += 1
        now = cluster.now()
        if cursor.was_reset(cluster, now):
            cursor = Cursor(seq=0)
            yield frame("reset", clock_view(cluster))
        fresh = cluster.events_after(cursor.seq, BACKLOG)
        manual_move = cluster.clock.mode == "manual" and now != cursor.now
        if fresh or manual_move or cursor.now is None:
            yield frame("snapshot", dashboard_snapshot(cluster))
        if fresh:
            cursor.seq, cursor.last = fresh[-1].seq, fresh[-1]
            yield frame("events", [event_view(e) for e in fresh], cursor.seq)
        if cluster.clock.mode != "manual" and tick % CLOCK_EVERY_TICKS == 0:
            yield frame("clock", clock_view(cluster))
        elif tick % KEEPALIVE_EVERY_TICKS == 0:
            yield ": keep-alive\n\n"
        cursor.now = now


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
        response = StreamingResponse(
            cluster_stream(self.cluster, after),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        await response(scope, receive, send)

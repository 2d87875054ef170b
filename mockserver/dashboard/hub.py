"""One look at the cluster per tick for every open stream: the dashboard's state, and what changed.

A `Hub` belongs to one cluster. While any stream is open it wakes every `TICK_SECONDS`, reads the tail of
the event log and the clock once, and when something happened re-reads only the workloads the new events
name (plus the nodes, projects, departments and load, which are few). It keeps the dashboard's state as
keyed tables and turns each tick into finished SSE frames — `delta` (rows upserted and ids removed),
`events`, `clock`, or `reset` followed by a full `snapshot` — that every subscriber receives as they are:
the cost of a tick does not grow with the number of dashboards.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from typing import Any

from mockserver.cluster.clock import isoformat
from mockserver.cluster.cluster import FakeCluster
from mockserver.cluster.errors import NotFound
from mockserver.cluster.events import Event
from mockserver.cluster.reader import ClusterReader
from mockserver.cluster.workload import Workload
from mockserver.views.control import clock_view, event_view, load_view, training_view

TICK_SECONDS = 0.25
CLOCK_EVERY_TICKS = 4
BACKLOG = 500  # events sent on connect and per tick at most: the page shows the last 500
HISTORY = 100  # phase changes shown per training (a crash loop's history is long)
TURN = 100  # changed trainings read per turn of the event loop in a tick (a few milliseconds)
# The tables of the dashboard's state and the key of each row.
TABLES = {
    "trainings": "workloadId",
    "loads": "workloadId",
    "jobs": "id",
    "nodes": "name",
    "projects": "id",
    "departments": "id",
}


def frame(kind: str, data: Any, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def training_row(training: Workload, since: int = 0, shown: HistoryRows | None = None) -> dict[str, Any]:
    """A training as the dashboard's table shows it: the control API's view and its recent phases —
    those after the first `since` of its history (a delta sends only the new ones; `historyFrom` says
    where they go), at most the last HISTORY. `shown`: the hub's formatted phases, reused."""
    row = training_view(training)
    total = len(training.history)
    start = max(since, total - HISTORY)
    if shown is None:
        row["history"] = [_phase_row(change) for change in training.history[start:]]
    else:
        row["history"] = shown.rows(training, start)
    if since:
        row["historyFrom"] = since
    return row


def _phase_row(change: Any) -> dict[str, Any]:
    return {"time": isoformat(change.time), "phase": change.phase.value, "reason": change.reason}


@dataclass
class _Window:
    start: int  # the history index of rows[0]
    rows: list[dict[str, Any]]
    last: object  # the history entry rows[-1] was made from: a history that was replaced shows here


class HistoryRows:
    """The last HISTORY phase changes of each training, formatted once: a history only grows, so a tick
    formats the new changes only (a crash loop's trainings change every tick; formatting their hundred
    phases again each time was most of a tick's work)."""

    def __init__(self) -> None:
        self._windows: dict[str, _Window] = {}

    def rows(self, training: Workload, start: int) -> list[dict[str, Any]]:
        history, total = training.history, len(training.history)
        window = self._windows.get(training.workload_id)
        end = window.start + len(window.rows) if window else 0
        if window is None or end > total or (window.rows and history[end - 1] is not window.last):
            window = None  # a new training, or a history that is not the one formatted
        low = max(0, total - HISTORY)
        if window is None or end < low:
            window = _Window(low, [], None)
            end = low
        window.rows += [_phase_row(change) for change in history[end:total]]
        if window.start < low:  # keep the last HISTORY only
            del window.rows[: low - window.start]
            window.start = low
        window.last = history[total - 1] if total else None
        self._windows[training.workload_id] = window
        return window.rows[max(0, start - window.start) :]

    def forget(self, workload_id: str) -> None:
        self._windows.pop(workload_id, None)


@dataclass
class State:
    """The dashboard's state as keyed tables (insertion order kept), and the snapshot's other fields."""

    tables: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: {t: {} for t in TABLES})
    extra: dict[str, Any] = field(default_factory=dict)

    def snapshot(self) -> dict[str, Any]:
        return {**self.extra, **{name: list(rows.values()) for name, rows in self.tables.items()}}

    def merge(self, table: str, rows: Iterable[dict[str, Any]], upserts: dict[str, list[Any]]) -> None:
        """Take the rows that differ from what the table holds, and note them in `upserts`."""
        key, held = TABLES[table], self.tables[table]
        for row in rows:
            if held.get(row[key]) != row:
                held[row[key]] = row
                upserts.setdefault(table, []).append(row)

    def drop(self, table: str, ids: Iterable[str], removals: dict[str, list[str]]) -> None:
        for gone in ids:
            if self.tables[table].pop(gone, None) is not None:
                removals.setdefault(table, []).append(gone)


class Hub:
    """The ticking reader of one cluster and the queues of the streams that listen to it."""

    def __init__(self, cluster: FakeCluster) -> None:
        self.cluster = cluster
        self.state = State()
        self.seq = 0  # the last event the state includes
        self.last: Event | None = None
        self.now: float | None = None
        self.subscribers: set[asyncio.Queue[str | None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._tick = 0
        self.history_sent: dict[str, int] = {}  # history length of each training as last sent
        self.shown = HistoryRows()
        self.rebuild()

    # ------------------------------------------------------------ subscribers
    def subscribe(self, queue: asyncio.Queue[str | None]) -> None:
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self.subscribers.clear()  # queues of an event loop that ended (tests run one per case)
            self.rebuild()  # nobody listened: the state may be old
            self._task = loop.create_task(self._run())
        self.subscribers.add(queue)

    def unsubscribe(self, queue: asyncio.Queue[str | None]) -> None:
        self.subscribers.discard(queue)

    async def _run(self) -> None:
        while self.subscribers:
            await asyncio.sleep(TICK_SECONDS)
            frames = await self.tick_in_turns()
            for queue in list(self.subscribers):
                for item in frames:
                    queue.put_nowait(item)

    # ------------------------------------------------------------------ reads
    def rebuild(self) -> None:
        """The whole state afresh (on the first subscriber and after a reset)."""
        with self.cluster.reading() as reader:
            self.state, self.history_sent, self.shown = State(), {}, HistoryRows()
            self._refresh(reader, None)
            tail = reader_events(self.cluster, 0)
            self.seq, self.last = (tail[-1].seq, tail[-1]) if tail else (0, None)
            self.now = reader.now()

    def tick(self) -> list[str]:
        """This tick's frames, the same for every subscriber (in one go)."""
        steps = self._tick_steps()
        while True:
            try:
                next(steps)
            except StopIteration as done:
                frames: list[str] = done.value
                return frames

    async def tick_in_turns(self) -> list[str]:
        """The same frames, `TURN` changed trainings per turn of the event loop: a tick after which
        thousands of trainings changed does not hold the loop (and every API request) for its whole
        length. Each turn reads under the cluster's lock at its own instant; whatever changes meanwhile
        has events after this tick's, and the next tick reads it again."""
        steps = self._tick_steps()
        while True:
            try:
                next(steps)
            except StopIteration as done:
                frames: list[str] = done.value
                return frames
            await asyncio.sleep(0)

    def _tick_steps(self) -> Generator[None, None, list[str]]:
        self._tick += 1
        frames: list[str] = []
        now = self.cluster.now()
        if self._was_reset(now):
            self.rebuild()
            frames += [frame("reset", clock_view(self.cluster)), frame("snapshot", self.state.snapshot())]
            return frames
        fresh = reader_events(self.cluster, self.seq)
        manual_move = self.cluster.clock.mode == "manual" and now != self.now
        if fresh or manual_move:
            changes = yield from self._refresh_in_turns({e.workload_id for e in fresh if e.workload_id})
            frames.append(frame("delta", changes))
        if fresh:
            self.seq, self.last = fresh[-1].seq, fresh[-1]
            frames.append(frame("events", [event_view(e) for e in fresh[-BACKLOG:]], self.seq))
        if self.cluster.clock.mode != "manual" and self._tick % CLOCK_EVERY_TICKS == 0:
            frames.append(frame("clock", clock_view(self.cluster)))
        self.now = now
        return frames

    def backlog(self, after: int) -> list[Event]:
        """The events after `after` that the state already includes (a new subscriber's history)."""
        return [e for e in self.cluster.events_after(after, 10**9) if e.seq <= self.seq][-BACKLOG:]

    def _was_reset(self, now: float) -> bool:
        if self.now is not None and now < self.now:
            return True
        if self.last is None:
            return False
        # The event seen last is still at its place unless the log was cleared.
        same = self.cluster.events_after(self.last.seq - 1, 1)
        return not same or same[0] != self.last

    def _refresh_in_turns(self, changed: set[str]) -> Generator[None, None, dict[str, Any]]:
        """`_refresh` of the changed workloads, TURN at a time in submission order (a step between)."""
        with self.cluster.reading() as reader:
            ordered = sorted(changed, key=lambda wid: t.queue_seq if (t := _live(reader, wid)) else -1)
        changes: dict[str, Any] = {"now": None, "upsert": {}, "remove": {}}
        for at in range(0, max(1, len(ordered)), TURN):
            if at:
                yield
            with self.cluster.reading() as reader:
                part = self._refresh(reader, set(ordered[at : at + TURN]))
            for key in ("upsert", "remove"):
                for table, rows in part[key].items():
                    changes[key].setdefault(table, []).extend(rows)
            changes["now"] = part["now"]
        return changes

    def _refresh(self, reader: ClusterReader, changed: set[str] | None) -> dict[str, Any]:
        """Bring the state up to the cluster; `changed`: the workloads to re-read (None: all)."""
        upserts: dict[str, list[Any]] = {}
        removals: dict[str, list[str]] = {}
        state = self.state
        if changed is None:
            trainings = reader.trainings()
        else:
            # In submission order, so that a new one goes after the older ones, as in a snapshot.
            found = (t for wid in changed if (t := _live(reader, wid)) is not None)
            trainings = sorted(found, key=lambda t: t.queue_seq)
            gone = [w for w in changed if _live(reader, w) is None]
            state.drop("trainings", gone, removals)
            for workload_id in gone:
                self.history_sent.pop(workload_id, None)
                self.shown.forget(workload_id)
        for training in trainings:
            # The state keeps a full row (a new stream's snapshot); the delta carries the new phases only.
            full = training_row(training, shown=self.shown)
            held = state.tables["trainings"].get(training.workload_id)
            if held != full:
                state.tables["trainings"][training.workload_id] = full
                sent = self.history_sent.get(training.workload_id, 0) if held is not None else 0
                delta = training_row(training, sent, self.shown) if sent else full
                upserts.setdefault("trainings", []).append(delta)
            self.history_sent[training.workload_id] = len(training.history)
        loads = reader.loads()
        state.merge("loads", (load_view(load) for load in loads), upserts)
        state.drop("loads", set(state.tables["loads"]) - {load.workload_id for load in loads}, removals)
        job_ids = None if changed is None else changed | {load.workload_id for load in loads}
        scheduler = reader.scheduler_snapshot(job_ids)
        state.merge("jobs", scheduler["jobs"], upserts)
        if job_ids is not None:
            listed = {r["id"] for r in scheduler["jobs"]}  # once, not once per job
            state.drop("jobs", [j for j in job_ids if j not in listed], removals)
        for table in ("nodes", "projects", "departments"):
            state.merge(table, scheduler[table], upserts)
        now = isoformat(reader.now())
        state.extra = {
            "nodePools": scheduler["nodePools"],
            "clusterId": reader.topology.cluster_id,
            "now": now,
        }
        return {"now": now, "upsert": upserts, "remove": removals}


def _live(reader: ClusterReader, workload_id: str) -> Workload | None:
    try:
        return reader.training(workload_id)
    except NotFound:  # gone (deleted), or the id of another kind (a load, a workspace)
        return None


def reader_events(cluster: FakeCluster, after: int) -> list[Event]:
    """Every event after `after` still in the log (it is bounded)."""
    return cluster.events_after(after, 10**9)


_HUBS: weakref.WeakKeyDictionary[FakeCluster, Hub] = weakref.WeakKeyDictionary()


def hub_for(cluster: FakeCluster, make: Callable[[FakeCluster], Hub] = Hub) -> Hub:
    """The one hub of a cluster, made on first use."""
    hub = _HUBS.get(cluster)
    if hub is None:
        hub = _HUBS[cluster] = make(cluster)
    return hub

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
import re
import weakref
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mockserver.cluster.clock import isoformat
from mockserver.cluster.cluster import FakeCluster
from mockserver.cluster.errors import NotFound
from mockserver.cluster.events import Event
from mockserver.cluster.reader import ClusterReader
from mockserver.cluster.reasons import Reason, ReasonCode
from mockserver.cluster.scheduler import messages
from mockserver.cluster.scheduler.messages import amount
from mockserver.cluster.workload import Workload
from mockserver.views.control import clock_view, event_view, load_view, training_view

TICK_SECONDS = 0.25
CLOCK_EVERY_TICKS = 4
BACKLOG = 500  # events sent on connect and per tick at most: the page shows the last 500
HISTORY = 100  # phase changes shown per workload (a crash loop's history is long)
TURN = 100  # changed workloads read per turn of the event loop in a tick (a few milliseconds)
# The tables of the dashboard's state and the key of each row. `workloads`: every kind a client submits
# (trainings, workspaces, and any kind added later), each row naming its kind; `loads`: the control API's.
TABLES = {
    "workloads": "workloadId",
    "loads": "workloadId",
    "jobs": "id",
    "nodes": "name",
    "projects": "id",
    "departments": "id",
}


def frame(kind: str, data: Any, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def workload_row(workload: Workload, since: int = 0, shown: HistoryRows | None = None) -> dict[str, Any]:
    """A workload as the dashboard's table shows it: the control API's view of a training, its kind (the
    workloads API's `type`, and the domain's word), and its recent phases — those after the first `since`
    of its history (a delta sends only the new ones; `historyFrom` says where they go), at most the last
    HISTORY. `shown`: the hub's formatted phases, reused."""
    row = training_view(workload)
    row["type"] = workload.kind.type_name
    row["kind"] = workload.kind.name
    row["gang"] = workload.kind.gang  # all pods placed at once or none: the page explains its wait
    total = len(workload.history)
    start = max(since, total - HISTORY)
    if shown is None:
        row["history"] = [_phase_row(change) for change in workload.history[start:]]
    else:
        row["history"] = shown.rows(workload, start)
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


def _reclaim_pattern() -> re.Pattern[str]:
    """KAI's reclaim wording (scheduler/messages.py) as a pattern, made from the same function, to read a
    reclaim back from a message that kept only its words (a load's eviction event)."""
    marks: dict[str, Any] = {
        "reclaimer": "\x00reclaimer\x00",
        "queue": "\x00queue\x00",
        "pool": "\x00pool\x00",
        "allocated": 911111,  # numbers, since the words round them: these print as themselves
        "deserved": 922222,
        "fair_share": 933333,
        "priority": 944444,
    }
    text = re.escape(messages.reclaimed(**marks))
    for name, mark in marks.items():
        text = text.replace(re.escape(str(mark)), f"(?P<{name}>.+?)")
    return re.compile(text + "$")


_RECLAIMED = _reclaim_pattern()


def _reclaim_params(message: str) -> Mapping[str, Any] | None:
    if isinstance(message, Reason) and message.params:
        return message.params if ReasonCode.RECLAIMED in message.codes else None
    found = _RECLAIMED.search(message)
    return found.groupdict() if found else None


def dashboard_event(event: Event) -> dict[str, Any]:
    """An event as the log shows it, with `explain`: what a scheduler's eviction means, said plainly.

    KAI words a reclaim with the victim's queue figures side by side ("uses 3 GPUs with a quota of 2,
    fair-share of 4"), which reads as if a queue under its fair share lost GPUs for no reason. A queue
    only loses GPUs to a reclaim while it holds more than its quota, so the page says that."""
    view = event_view(event)
    message = event.message
    reclaim = _reclaim_params(message)
    if reclaim is not None:
        view["explain"] = (
            f"Reclaimed: {reclaim['queue']} held {_number(reclaim['allocated'])} GPUs in node pool "
            f"{reclaim['pool']}, more than its quota of {_number(reclaim['deserved'])}, so the scheduler "
            f"took GPUs back for {reclaim['reclaimer']}, whose project was within its own share."
        )
    elif isinstance(message, Reason) and ReasonCode.PREEMPTED in message.codes and message.params:
        view["explain"] = (
            f"Preempted: {message.params['preemptor']}, of the same project and a higher priority, "
            "needed its GPUs."
        )
    return view


def _number(value: Any) -> str:
    return amount(value) if isinstance(value, (int, float)) else str(value)


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
        self.history_sent: dict[str, int] = {}  # history length of each workload as last sent
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
        while (frames := _step(steps)) is None:
            pass
        return frames

    async def tick_in_turns(self) -> list[str]:
        """The same frames, `TURN` changed trainings per turn of the event loop: a tick after which
        thousands of trainings changed does not hold the loop (and every API request) for its whole
        length. Each turn reads under the cluster's lock at its own instant; whatever changes meanwhile
        has events after this tick's, and the next tick reads it again."""
        steps = self._tick_steps()
        while (frames := _step(steps)) is None:
            await asyncio.sleep(0)
        return frames

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
            frames.append(frame("events", [dashboard_event(e) for e in fresh[-BACKLOG:]], self.seq))
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
            ordered = sorted(changed, key=lambda wid: t.queue_seq if (t := _live(reader, wid, set())) else -1)
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
        loads = reader.loads()
        load_ids = {load.workload_id for load in loads}
        if changed is None:
            workloads = [w for w in reader.workloads() if w.workload_id not in load_ids]
        else:
            # In submission order, so that a new one goes after the older ones, as in a snapshot.
            found = (w for wid in changed if (w := _live(reader, wid, load_ids)) is not None)
            workloads = sorted(found, key=lambda w: w.queue_seq)
            gone = [w for w in changed if _live(reader, w, load_ids) is None]
            state.drop("workloads", gone, removals)
            for workload_id in gone:
                self.history_sent.pop(workload_id, None)
                self.shown.forget(workload_id)
        held_rows = state.tables["workloads"]
        for workload in workloads:
            # The state keeps a full row (a new stream's snapshot); the delta carries the new phases only.
            full, held = workload_row(workload, shown=self.shown), held_rows.get(workload.workload_id)
            if held != full:
                held_rows[workload.workload_id] = full
                sent = self.history_sent.get(workload.workload_id, 0) if held is not None else 0
                delta = workload_row(workload, sent, self.shown) if sent else full
                upserts.setdefault("workloads", []).append(delta)
            self.history_sent[workload.workload_id] = len(workload.history)
        state.merge("loads", (load_view(load) for load in loads), upserts)
        state.drop("loads", set(state.tables["loads"]) - load_ids, removals)
        job_ids = None if changed is None else changed | load_ids
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


def _step(steps: Generator[None, None, list[str]]) -> list[str] | None:
    """Run the tick one turn on; its frames once it has finished, else None."""
    try:
        next(steps)
    except StopIteration as done:
        frames: list[str] = done.value
        return frames
    return None


def _live(reader: ClusterReader, workload_id: str, loads: set[str]) -> Workload | None:
    """The workload a client submitted, of any kind; None once gone (deleted) or for a control-API load."""
    if workload_id in loads:
        return None
    try:
        return reader.workload(workload_id)
    except NotFound:
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

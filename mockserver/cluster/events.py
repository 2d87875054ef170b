"""Timed transitions waiting to happen, and the log of what did happen."""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field


@dataclass(order=True, frozen=True)
class Timer:
    """A transition due at `time` for one workload; stale once the workload's generation moved on."""

    time: float
    seq: int
    workload_id: str = field(compare=False)
    action: str = field(compare=False)
    generation: int = field(compare=False)


class Timers:
    """A heap of timers, popped in (time, submission order) so equal times stay deterministic."""

    def __init__(self) -> None:
        self._heap: list[Timer] = []
        self._seq = itertools.count()

    def add(self, time: float, workload_id: str, action: str, generation: int) -> None:
        heapq.heappush(self._heap, Timer(time, next(self._seq), workload_id, action, generation))

    def next_time(self) -> float | None:
        return self._heap[0].time if self._heap else None

    def pop_due(self, now: float) -> Timer | None:
        if self._heap and self._heap[0].time <= now:
            return heapq.heappop(self._heap)
        return None

    def clear(self) -> None:
        self._heap.clear()
        self._seq = itertools.count()


@dataclass(frozen=True)
class Event:
    seq: int
    time: float
    kind: str
    workload_id: str | None
    phase: str | None
    message: str


class EventLog:
    """Ordered, bounded record of every state change, for the control API and for debugging tests."""

    def __init__(self, capacity: int = 50_000) -> None:
        self._events: list[Event] = []
        self._capacity = capacity
        self._seq = itertools.count(1)

    def record(
        self, time: float, kind: str, workload_id: str | None, phase: str | None, message: str
    ) -> None:
        self._events.append(Event(next(self._seq), time, kind, workload_id, phase, message))
        if len(self._events) > self._capacity:
            del self._events[: len(self._events) - self._capacity]

    def after(self, seq: int, limit: int = 1000) -> list[Event]:
        return [e for e in self._events if e.seq > seq][:limit]

    def clear(self) -> None:
        self._events.clear()
        self._seq = itertools.count(1)

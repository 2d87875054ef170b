"""Timed transitions waiting to happen, and the log of what did happen."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import Enum

from mockserver.cluster.lifecycle import Trigger
from mockserver.cluster.reasons import ReasonCode


class ClusterTask(Enum):
    """Timed work of the cluster as a whole rather than of one training."""

    SCHEDULING_CYCLE = "scheduling-cycle"
    PURGE_DELETED = "purge-deleted"


class PodTask(Enum):
    """Timed work of one pod of a workload (`jobcontroller.py`)."""

    CONTAINER_STARTED = "container-started"  # the image is pulled and the container runs
    CONTAINER_ENDED = "container-ended"  # the command ran to its end
    CONTAINER_RESTART = "container-restart"  # OnFailure: the back-off is over, the container runs again
    PULL_BACK_OFF = "pull-back-off"  # ErrImagePull turns into ImagePullBackOff
    START_FAILED = "start-failed"  # a pod that cannot start fails its workload
    REPLACE = "replace"  # Never: the back-off is over, a failed pod's replacement is created
    VICTIMS_GONE = "victims-gone"  # a pipelined pod's victims have terminated: it may be bound


@dataclass(order=True, frozen=True)
class Timer:
    """Work due at `time`; a training's timer is stale once its generation moved on."""

    time: float
    seq: int
    workload_id: str = field(compare=False)
    action: Trigger | ClusterTask | PodTask = field(compare=False)
    generation: int = field(compare=False)
    # The pod's serial for a PodTask (-1: the workload's own timer).
    pod: int = field(default=-1, compare=False)


class Timers:
    """A heap of timers, popped in (time, submission order) so equal times stay deterministic."""

    def __init__(self) -> None:
        self._heap: list[Timer] = []
        self._seq = itertools.count()

    def add(
        self,
        time: float,
        workload_id: str,
        action: Trigger | ClusterTask | PodTask,
        generation: int = 0,
        pod: int = -1,
    ) -> None:
        heapq.heappush(self._heap, Timer(time, next(self._seq), workload_id, action, generation, pod))

    def next_time(self) -> float | None:
        return self._heap[0].time if self._heap else None

    def pop_due(self, now: float) -> Timer | None:
        if self._heap and self._heap[0].time <= now:
            return heapq.heappop(self._heap)
        return None

    def waiting(self) -> list[Timer]:
        return list(self._heap)

    def shift(self, chosen: Callable[[Timer], bool], seconds: float) -> None:
        """Move the chosen timers `seconds` later, keeping their order among equal times."""
        self._heap = [replace(t, time=t.time + seconds) if chosen(t) else t for t in self._heap]
        heapq.heapify(self._heap)


class EventKind(str, Enum):
    SUBMITTED = "submitted"
    PHASE = "phase"
    PENDING = "pending"
    DELETED = "deleted"
    LOAD_SUBMITTED = "load-submitted"
    LOAD_STARTED = "load-started"
    LOAD_EVICTED = "load-evicted"
    LOAD_REMOVED = "load-removed"
    CLUSTER = "cluster"  # the cluster itself changed: a node, a device, a quota (cluster/chaos.py)
    # What happened to one pod, in the kubelet's and the scheduler's words (Scheduled, Pulling, Started …).
    POD = "pod"


@dataclass(frozen=True)
class Event:
    seq: int
    time: float
    kind: EventKind
    workload_id: str | None
    phase: str | None
    message: str
    # What the message says, for views that name it with a code of their own (`reasons.py`).
    codes: tuple[ReasonCode, ...] = ()
    # A pod's event: "<Normal|Warning>/<reason>/<pod name>" in the kubelet's or the scheduler's words.
    detail: str | None = None


class EventLog:
    """Ordered, bounded record of every state change, for the control API and the workload events."""

    def __init__(self, capacity: int = 50_000) -> None:
        self._events: list[Event] = []
        self._capacity = capacity
        self._seq = itertools.count(1)

    def record(
        self,
        time: float,
        kind: EventKind,
        workload_id: str | None,
        phase: str | None,
        message: str,
        codes: tuple[ReasonCode, ...] = (),
        detail: str | None = None,
    ) -> None:
        self._events.append(Event(next(self._seq), time, kind, workload_id, phase, message, codes, detail))
        if len(self._events) > self._capacity:
            del self._events[: len(self._events) - self._capacity]

    @property
    def capacity(self) -> int:
        return self._capacity

    def last_seq(self) -> int:
        return self._events[-1].seq if self._events else 0

    def skip(self, count: int) -> None:
        """Use up `count` sequence numbers: events computed but older than the log keeps (see jumps.py)."""
        if count > 0:
            self._events.clear()  # what follows fills the log, so it stays dense
            self._seq = itertools.count(next(self._seq) + count)

    def after(self, seq: int, limit: int = 1000) -> list[Event]:
        # Sequence numbers are dense and ordered: find the first newer event by bisection.
        if not self._events:
            return []
        start = max(0, seq - self._events[0].seq + 1)
        return self._events[start : start + limit]

    def of(self, workload_id: str) -> list[Event]:
        return [e for e in self._events if e.workload_id == workload_id]

"""Phase coverage: the fake drives each workload a client creates through the phases clients rarely see,
so that the client's handling of each is exercised, and the audit lists which phases each went through.

The moves, once per workload, each when the workload's phase allows it (a Running workload a while
after the move before, so that the client has time to see each state):

- an Initializing failure: its container fails while it starts (an image that cannot be pulled or a
  crash at start look alike to the API: back-off, Pending, then a new attempt);
- a preemption: its pods are evicted for other work (Running → Terminating → Pending → Running);
- a node loss: the node of its first pod goes down (the eviction `nodeDown` makes) and comes back
  `NODE_OUTAGE_SECONDS` later;
- a slow Deleting: the cluster's Deleting phase lasts `DELETING_SECONDS`, so a delete is seen in it.

Only control-side moves (`cluster/chaos.py`, `FakeCluster.force_outcome`): nothing here knows HTTP.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field, replace
from enum import Enum

from mockserver.cluster import chaos
from mockserver.cluster.cluster import FakeCluster
from mockserver.cluster.engine import Engine
from mockserver.cluster.errors import ClusterError
from mockserver.cluster.phases import Phase
from mockserver.cluster.workload import Workload

# Virtual seconds a workload is left alone after it appears or after a move, before the next move.
SETTLE_SECONDS = 5.0
NODE_OUTAGE_SECONDS = 20.0
DELETING_SECONDS = 5.0
# Wall seconds between two looks of the driver thread (a realtime clock).
DRIVER_PERIOD = 0.2
# On a manual clock the driver looks in virtual time, at every virtual second of an advance: at most this
# many looks per advance (a longer advance looks less often; its client sees only where it ends anyway).
LOOK_SECONDS = 1.0
MAX_LOOKS_PER_ADVANCE = 3600


class Move(str, Enum):
    """The rare moves; the values are the report's words."""

    INIT_FAILURE = "failed while Initializing"
    PREEMPTED = "preempted"
    NODE_LOSS = "evicted by a node loss"


# The phase each move needs, in the order they are made.
_NEEDS = {Move.INIT_FAILURE: Phase.INITIALIZING, Move.PREEMPTED: Phase.RUNNING, Move.NODE_LOSS: Phase.RUNNING}


@dataclass
class Driven:
    """What the fake did to one client workload."""

    workload_id: str
    name: str
    kind: str
    done: list[Move] = field(default_factory=list)
    last_move: float = 0.0


@dataclass(frozen=True)
class WorkloadPhases:
    workload_id: str
    name: str
    kind: str
    phases: tuple[str, ...]  # its history, repeats of one phase in a row kept (each is a new attempt)
    moves: tuple[Move, ...]


class PhaseCoverage:
    def __init__(self, cluster: FakeCluster) -> None:
        self.cluster = cluster
        self.driven: dict[str, Driven] = {}
        self._down: list[tuple[str, float]] = []  # nodes taken down, and when they come back
        if cluster.timing.deleting < DELETING_SECONDS:  # the cluster's, so that a reset keeps it
            cluster.timing = replace(cluster.timing, deleting=DELETING_SECONDS)
        self._engine = cluster.change(_slow_deleting)

    def step(self) -> list[str]:
        """Make every move that is due now; what was done, in words."""
        done: list[str] = []
        engine = self.cluster.change(_slow_deleting)
        if engine is not self._engine:  # a reset: a cluster of its own, whose ids may repeat the old ones
            self._engine, self.driven, self._down = engine, {}, []
        now = self.cluster.now()
        for node, until in list(self._down):
            if now >= until:
                self._down.remove((node, until))
                done.append(chaos.node_up(self.cluster, node).summary)
        with self.cluster.reading() as reader:
            due: list[tuple[Driven, Move, str | None]] = []
            for workload in reader.workloads():
                if not workload.kind.runs_container:  # the control API's loads are nobody's client
                    continue
                driven = self.driven.setdefault(workload.workload_id, _driven(workload, now))
                move = _next(driven, workload, now)
                if move is not None:
                    nodes = [p.node for p in reader.placed(workload.workload_id)]
                    due.append((driven, move, nodes[0] if nodes else None))
        for driven, move, where in due:
            done += self._make(driven, move, where, now)
        return done

    def advance(self, seconds: float) -> list[str]:
        """Move a manual clock on `seconds`, looking after each virtual second (`step`): the same advances
        make the same moves, whatever the machine's load (a wall-clock look could fall anywhere)."""
        looks = max(1, min(MAX_LOOKS_PER_ADVANCE, math.ceil(seconds / LOOK_SECONDS)))
        done: list[str] = []
        moved = 0.0
        for look in range(1, looks + 1):
            target = seconds if look == looks else seconds * look / looks
            self.cluster.advance(target - moved)
            moved = target
            done += self.step()
        return done

    def _make(self, driven: Driven, move: Move, node: str | None, now: float) -> list[str]:
        try:
            if move is Move.INIT_FAILURE:
                self.cluster.force_outcome(driven.workload_id, "ContainerFailure")
            elif move is Move.PREEMPTED:
                self.cluster.force_outcome(driven.workload_id, "Preempted")
            elif node is not None and node not in (n for n, _ in self._down):
                chaos.node_down(self.cluster, node)
                self._down.append((node, now + NODE_OUTAGE_SECONDS))
            else:
                return []
        except ClusterError:  # it moved on meanwhile (deleted, ended): try again at the next look
            return []
        driven.done.append(move)
        driven.last_move = now
        return [f"{driven.name}: {move.value}"]

    def report(self) -> list[WorkloadPhases]:
        found = []
        with self.cluster.reading() as reader:
            for workload_id, driven in self.driven.items():
                try:
                    workload = reader.workload(workload_id, deleted=True)
                except ClusterError:  # purged after its retention
                    continue
                phases = tuple(change.phase.value for change in workload.history)
                found.append(
                    WorkloadPhases(workload_id, driven.name, driven.kind, phases, tuple(driven.done))
                )
        return found


def _driven(workload: Workload, now: float) -> Driven:
    return Driven(workload.workload_id, workload.requested_name, workload.kind.name, last_move=now)


def _next(driven: Driven, workload: Workload, now: float) -> Move | None:
    """The first move not made yet that the workload's phase allows now. A Running workload is left
    alone a while after each move, so that the client sees it run; an Initializing one is caught as soon
    as it is seen (the phase lasts seconds)."""
    settled = now - driven.last_move >= SETTLE_SECONDS
    for move, phase in _NEEDS.items():
        if (
            move not in driven.done
            and workload.actual_phase is phase
            and (settled or phase is not Phase.RUNNING)
        ):
            return move
    return None


def _slow_deleting(engine: Engine) -> Engine:
    if engine.timing.deleting < DELETING_SECONDS:
        engine.timing = replace(engine.timing, deleting=DELETING_SECONDS)
    return engine


def markdown(found: list[WorkloadPhases]) -> str:
    lines = [
        "",
        "## Phase coverage",
        "",
        f"The fake drove each client workload through rare phases (Deleting lasts {DELETING_SECONDS:g} s).",
        "",
        "| workload | kind | moves made | phases it went through |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {w.name} (`{w.workload_id}`) | {w.kind} | {', '.join(m.value for m in w.moves) or 'none'} "
        f"| {' → '.join(w.phases)} |"
        for w in found
    ]
    return "\n".join(lines) + "\n"


class CoverageDriver:
    """Runs `PhaseCoverage.step` every `DRIVER_PERIOD` wall seconds in a thread of its own: for a realtime
    clock. A manual clock's advances look themselves (`PhaseCoverage.advance`)."""

    def __init__(self, coverage: PhaseCoverage, period: float = DRIVER_PERIOD) -> None:
        self.coverage, self.period = coverage, period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="phase-coverage", daemon=True)

    def start(self) -> CoverageDriver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.ident is not None:  # started
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self.period):
            self.coverage.step()

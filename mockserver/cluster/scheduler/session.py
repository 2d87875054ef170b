"""One scheduling cycle's context: fair shares from the state at its start, and what it decided so far."""

from __future__ import annotations

from collections.abc import Iterator

from mockserver.cluster.scheduler.fairshare import assign_fair_shares
from mockserver.cluster.scheduler.nodes import PodPlacement
from mockserver.cluster.scheduler.ordering import Leaves, leaves_of, victim_key
from mockserver.cluster.scheduler.queues import QueueState
from mockserver.cluster.scheduler.state import ClusterState, PodRecord, Shape
from mockserver.cluster.scheduler.vector import ZERO, ResourceVector
from mockserver.cluster.topology import Topology


def refresh_fair_shares(state: ClusterState, shapes: list[Shape]) -> None:
    """Recompute every queue's request (allocated + pending) and fair share; work grows with shapes, not
    with pending pods."""
    waiting: dict[tuple[str, str], ResourceVector] = {}
    for shape in shapes:
        # Members are all pending between cycles (placed ones are compacted away when a cycle ends).
        count = len(shape.members)
        if not count:
            continue
        # A pending pod is demand in every pool it may use: each pool's share should reflect it.
        for pool, request in shape.requests.items():
            key = (shape.project_id, pool)
            waiting[key] = waiting.get(key, ZERO).plus(request.times(count))
    for queue in state.departments.values():
        queue.request = queue.allocated
    for key, queue in state.projects.items():
        extra = waiting.get(key, ZERO)
        queue.request = queue.allocated.plus(extra)
        assert queue.parent is not None
        queue.parent.request = queue.parent.request.plus(extra)
    topology: Topology = state.topology
    for pool in state.pools:
        departments = [q for (_, p), q in state.departments.items() if p == pool]
        projects = [q for (_, p), q in state.projects.items() if p == pool]
        assign_fair_shares(state.totals[pool], departments, projects, topology.department_over_quota)


class Session:
    def __init__(self, state: ClusterState, shapes: list[Shape], pipelining: bool = False) -> None:
        self.state = state
        self.pipelining = pipelining
        self.shapes = shapes
        self.started: list[PodRecord] = []
        # Pods placed in this cycle are not victims in it: a pod is never started and evicted at once.
        self.fresh: set[str] = set()
        self.evicted: list[tuple[PodRecord, str]] = []
        # Pods placed on what their victims still release, with the victims' job ids (evictions.py).
        self.pipelined: list[tuple[PodRecord, list[str]]] = []
        # Pods consolidation moved to another node (still placed), with their message.
        self.moved: list[tuple[PodRecord, str]] = []
        for shape in shapes:
            for pool in shape.candidates:
                shape.reasons.pop(pool, None)
        refresh_fair_shares(state, shapes)
        self._victims: dict[int, list[PodRecord]] = {}
        self._rounds: list[tuple[str, Leaves]] | None = None

    def rounds(self) -> list[tuple[str, Leaves]]:
        """(pool, shapes by queue) by preference rank: every pod tries its first pool before any tries its
        second. Grouped and sorted once per cycle; pods placed meanwhile are passed over by QueueOrder."""
        if self._rounds is None:
            self._rounds = []
            depth = max((len(s.candidates) for s in self.shapes), default=0)
            for rank in range(depth):
                by_pool: dict[str, list[Shape]] = {}
                for shape in self.shapes:
                    if len(shape.candidates) > rank:
                        by_pool.setdefault(shape.candidates[rank], []).append(shape)
                for pool in self.state.topology.node_pools:
                    if pool in by_pool:
                        self._rounds.append((pool, leaves_of(by_pool[pool], self.state.projects, pool)))
        return self._rounds

    def start(self, record: PodRecord, pool: str, pods: list[PodPlacement]) -> None:
        self.state.commit(record, pool, pods)
        self.started.append(record)
        self.fresh.add(record.id)

    def evict(self, record: PodRecord, message: str) -> None:
        """Record an eviction whose resources the caller already freed with `ClusterState.unbind`."""
        self.evicted.append((record, message))

    def move(self, record: PodRecord, message: str) -> None:
        """Record a pod already placed again on another node (consolidation); not a victim again this cycle."""
        self.moved.append((record, message))
        self.fresh.add(record.id)

    def pipeline(
        self, records: list[PodRecord], pool: str, pods: list[PodPlacement], victims: list[str]
    ) -> None:
        """Hold the place of a pod (with `pods`) or of a gang already charged and bound (`pods` empty) whose
        victims still terminate: it binds once they are gone (KAI's statement Pipeline)."""
        if pods:
            self.state.commit(records[0], pool, pods)
        for record in records:
            record.pipelined = True
            self.pipelined.append((record, victims))
            self.fresh.add(record.id)

    def new_action(self) -> None:
        self._victims.clear()

    def victims_in(self, queue: QueueState) -> Iterator[PodRecord]:
        """The queue's evictable pods, lowest priority and newest first; cached for the current action."""
        cached = self._victims.get(id(queue))
        if cached is None:
            cached = sorted(
                (
                    r
                    for r in queue.running.values()
                    if r.job.preemptible and r.id not in self.fresh and not r.pipelined
                ),
                key=victim_key,
            )
            self._victims[id(queue)] = cached
        return (r for r in cached if r.pods is not None)

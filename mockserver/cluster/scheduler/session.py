"""One scheduling cycle's context: fair shares from the state at its start, and what it decided so far."""

from __future__ import annotations

from collections.abc import Iterator

from mockserver.cluster.scheduler.fairshare import assign_fair_shares
from mockserver.cluster.scheduler.nodes import PodPlacement
from mockserver.cluster.scheduler.ordering import Leaves, leaves_of, victim_key
from mockserver.cluster.scheduler.queues import QueueState
from mockserver.cluster.scheduler.state import ClusterState, JobRecord


def refresh_fair_shares(state: ClusterState, pending: list[JobRecord]) -> None:
    """Recompute every queue's request (allocated + pending) and fair share."""
    waiting: dict[tuple[str, str], list[float]] = {}
    for record in pending:
        # A pending job is demand in every pool it may use: each pool's share should reflect it.
        for pool, request in record.requests.items():
            total = waiting.setdefault((record.job.project_id, pool), [0.0, 0.0, 0.0])
            total[0] += request[0]
            total[1] += request[1]
            total[2] += request[2]
    for queue in state.departments.values():
        queue.request = list(queue.allocated)
    for key, queue in state.projects.items():
        extra = waiting.get(key, (0.0, 0.0, 0.0))
        queue.request = [a + e for a, e in zip(queue.allocated, extra, strict=True)]
        assert queue.parent is not None
        for r in range(3):
            queue.parent.request[r] += extra[r]
    for pool, index in state.pools.items():
        nodes = [n.node for n in index.nodes]
        total = (
            float(sum(n.gpus for n in nodes)),
            float(sum(n.cpu_millis for n in nodes)),
            float(sum(n.memory_mib for n in nodes)),
        )
        departments = [q for (_, p), q in state.departments.items() if p == pool]
        projects = [q for (_, p), q in state.projects.items() if p == pool]
        assign_fair_shares(total, departments, projects)


class Session:
    def __init__(self, state: ClusterState, pending: list[JobRecord]) -> None:
        self.state = state
        self.pending = pending
        self.started: list[str] = []
        # Jobs placed in this cycle are not victims in it: a training is never started and evicted at once.
        self.fresh: set[str] = set()
        self.evicted: list[tuple[JobRecord, str]] = []
        for record in pending:
            for pool in record.candidates:
                record.reasons.pop(pool, None)
        refresh_fair_shares(state, pending)
        self._victims: dict[int, list[JobRecord]] = {}
        self._rounds: list[tuple[str, Leaves]] | None = None

    def rounds(self) -> list[tuple[str, Leaves]]:
        """(pool, jobs by queue) by preference rank: every job tries its first pool before any tries its
        second. Grouped and sorted once per cycle; jobs placed meanwhile are passed over by QueueOrder."""
        if self._rounds is None:
            self._rounds = []
            depth = max((len(r.candidates) for r in self.pending), default=0)
            for rank in range(depth):
                by_pool: dict[str, list[JobRecord]] = {}
                for record in self.pending:
                    if len(record.candidates) > rank:
                        by_pool.setdefault(record.candidates[rank], []).append(record)
                for pool in self.state.topology.node_pools:
                    if pool in by_pool:
                        leaves = leaves_of(by_pool[pool], lambda r, pool=pool: self.state.queue(r, pool))
                        self._rounds.append((pool, leaves))
        return self._rounds

    def start(self, record: JobRecord, pool: str, pods: list[PodPlacement]) -> None:
        self.state.commit(record, pool, pods)
        self.started.append(record.job.id)
        self.fresh.add(record.job.id)

    def evict(self, record: JobRecord, message: str) -> None:
        """Record an eviction whose resources the caller already freed with `ClusterState.unbind`."""
        self.evicted.append((record, message))

    def new_action(self) -> None:
        self._victims.clear()

    def victims_in(self, queue: QueueState) -> Iterator[JobRecord]:
        """The queue's evictable jobs, lowest priority and newest first; cached for the current action."""
        cached = self._victims.get(id(queue))
        if cached is None:
            cached = sorted(
                (r for r in queue.running.values() if r.job.preemptible and r.job.id not in self.fresh),
                key=victim_key,
            )
            self._victims[id(queue)] = cached
        return (r for r in cached if r.pods is not None)

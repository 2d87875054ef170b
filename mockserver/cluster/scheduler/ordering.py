"""The order in which queues and jobs are served, and in which victims are picked (KAI §2.2).

Jobs come out of a two-level priority queue: the best department, then its best project, then that
project's best job. Queues are compared with their next job counted in, so a queue's turn comes back as
soon as what it holds changes.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator

from mockserver.cluster.scheduler.queues import EPSILON, GPU, QueueState, Vector, exceeds
from mockserver.cluster.scheduler.state import JobRecord


def job_key(record: JobRecord) -> tuple:
    """Higher priority first, then older, then id."""
    return (-record.job.priority, record.job.seq, record.job.id)


def victim_key(record: JobRecord) -> tuple:
    """Lowest priority first, then newest."""
    return (record.job.priority, -record.job.seq, record.job.id)


def _dominant_share(queue: QueueState, request: Vector) -> tuple[float, float, bool]:
    with_job = without_job = 0.0
    penalised = False
    for r in range(3):
        share = queue.allocatable_share(r)
        if share == math.inf:
            continue
        if share <= EPSILON:
            penalised = penalised or request[r] > 0
            with_job = max(with_job, math.inf if queue.allocated[r] + request[r] > 0 else 0.0)
            without_job = max(without_job, math.inf if queue.allocated[r] > 0 else 0.0)
            continue
        with_job = max(with_job, (queue.allocated[r] + request[r]) / share)
        without_job = max(without_job, queue.allocated[r] / share)
    return with_job, without_job, penalised


def queue_key(queue: QueueState, request: Vector) -> tuple:
    """KAI's queue comparator as a sort key; `request` is the queue's next job."""
    over_fair_share = exceeds(queue.allocated, queue.fair_share)
    starved = not exceeds([a + q for a, q in zip(queue.allocated, request, strict=True)], queue.deserved)
    with_job, without_job, penalised = _dominant_share(queue, request)
    gpu_share = queue.allocatable_share(GPU)
    return (
        over_fair_share,
        not starved,
        -queue.priority,
        penalised,
        with_job,
        without_job,
        gpu_share,
        queue.creation,
    )


def victim_queue_key(queue: QueueState) -> tuple:
    """The most over-served queue first: over fair share, over deserved, lower priority, larger share."""
    over_fair_share = exceeds(queue.allocated, queue.fair_share)
    over_deserved = exceeds(queue.allocated, queue.deserved)
    _, share, _ = _dominant_share(queue, (0.0, 0.0, 0.0))
    return (not over_fair_share, not over_deserved, queue.priority, -share, queue.creation)


class _Leaf:
    __slots__ = ("at", "jobs", "queue")

    def __init__(self, queue: QueueState, jobs: list[JobRecord]) -> None:
        self.queue = queue
        self.jobs = jobs
        self.at = 0


class QueueOrder:
    """Yields jobs of one node pool in KAI's order. `skip(record, pool)` may drop a job without trying it;
    call `invalidate()` after changing other queues' holdings (evictions) so that the order is rebuilt."""

    def __init__(
        self,
        pool: str,
        records: list[JobRecord],
        queue_of: Callable[[JobRecord], QueueState],
        skip: Callable[[JobRecord], bool],
    ) -> None:
        self._pool = pool
        self._skip = skip
        by_queue: dict[int, _Leaf] = {}
        for record in records:
            queue = queue_of(record)
            leaf = by_queue.get(id(queue))
            if leaf is None:
                leaf = by_queue[id(queue)] = _Leaf(queue, [])
            leaf.jobs.append(record)
        self._leaves = sorted(by_queue.values(), key=lambda leaf: leaf.queue.creation)
        for leaf in self._leaves:
            leaf.jobs.sort(key=job_key)
        self._stale = True

    def invalidate(self) -> None:
        self._stale = True

    def __iter__(self) -> Iterator[JobRecord]:
        top: list = []
        children: dict[int, list] = {}
        while True:
            if self._stale:
                top, children = self._rebuild()
                self._stale = False
            if not top:
                return
            _, _, parent = heapq.heappop(top)
            heap = children[id(parent)]
            _, _, leaf = heapq.heappop(heap)
            record = leaf.jobs[leaf.at]
            leaf.at += 1
            yield record
            if self._stale:
                continue
            if self._advance(leaf):
                heapq.heappush(heap, self._leaf_entry(leaf))
            if heap:
                heapq.heappush(top, self._parent_entry(parent, heap))

    def _advance(self, leaf: _Leaf) -> bool:
        while leaf.at < len(leaf.jobs) and self._skip(leaf.jobs[leaf.at]):
            leaf.at += 1
        return leaf.at < len(leaf.jobs)

    def _leaf_entry(self, leaf: _Leaf) -> tuple:
        request = leaf.jobs[leaf.at].requests[self._pool]
        return (queue_key(leaf.queue, request), leaf.queue.creation, leaf)

    def _parent_entry(self, parent: QueueState, heap: list) -> tuple:
        best: _Leaf = heap[0][2]
        request = best.jobs[best.at].requests[self._pool]
        return (queue_key(parent, request), parent.creation, parent)

    def _rebuild(self) -> tuple[list, dict[int, list]]:
        children: dict[int, list] = {}
        parents: dict[int, QueueState] = {}
        for leaf in self._leaves:
            if not self._advance(leaf):
                continue
            parent = leaf.queue.parent
            assert parent is not None
            parents[id(parent)] = parent
            children.setdefault(id(parent), []).append(self._leaf_entry(leaf))
        top = []
        for key, heap in children.items():
            heapq.heapify(heap)
            top.append(self._parent_entry(parents[key], heap))
        heapq.heapify(top)
        return top, children

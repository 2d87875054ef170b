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
from mockserver.cluster.topology import UNLIMITED


def job_key(record: JobRecord) -> tuple:
    """Higher priority first, then older, then id."""
    return (-record.job.priority, record.job.seq, record.job.id)


def victim_key(record: JobRecord) -> tuple:
    """Lowest priority first, then newest."""
    return (record.job.priority, -record.job.seq, record.job.id)


def _dominant_share(queue: QueueState, request: Vector) -> tuple[float, float, bool]:
    """max over resources of held / allocatable share, with and without the job; and whether the job asks
    for a resource the queue may not hold at all."""
    with_job = without_job = 0.0
    penalised = False
    for r in range(3):
        share = queue.allocatable_share(r)
        if share == math.inf:
            continue
        held = queue.allocated[r]
        if share <= EPSILON:
            penalised = penalised or request[r] > 0
            if held + request[r] > 0:
                with_job = math.inf
            if held > 0:
                without_job = math.inf
            continue
        with_job = max(with_job, (held + request[r]) / share)
        without_job = max(without_job, held / share)
    return with_job, without_job, penalised


def queue_key(queue: QueueState, request: Vector) -> tuple:
    """KAI's queue comparator as a sort key; `request` is the queue's next job."""
    allocated, deserved = queue.allocated, queue.deserved
    over_fair_share = False
    starved = True
    for r in range(3):
        if allocated[r] > queue.fair_share[r] + EPSILON:
            over_fair_share = True
        if deserved[r] != UNLIMITED and allocated[r] + request[r] > deserved[r] + EPSILON:
            starved = False
    with_job, without_job, penalised = _dominant_share(queue, request)
    return (
        over_fair_share,
        not starved,
        -queue.priority,
        penalised,
        with_job,
        without_job,
        queue.allocatable_share(GPU),
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


Leaves = list[tuple[QueueState, list[JobRecord]]]


def leaves_of(records: list[JobRecord], queue_of: Callable[[JobRecord], QueueState]) -> Leaves:
    """Group jobs by project queue, each group in job order, queues in topology order."""
    by_queue: dict[int, tuple[QueueState, list[JobRecord]]] = {}
    for record in records:
        queue = queue_of(record)
        by_queue.setdefault(id(queue), (queue, []))[1].append(record)
    for _, jobs in by_queue.values():
        jobs.sort(key=job_key)
    return sorted(by_queue.values(), key=lambda leaf: leaf[0].creation)


class QueueOrder:
    """Yields the waiting jobs of one node pool in KAI's order. Jobs placed meanwhile are passed over, and
    `skip(record)` may drop a job without trying it. Call `invalidate()` after changing other queues'
    holdings (evictions) so that the order is rebuilt."""

    def __init__(self, pool: str, leaves: Leaves, skip: Callable[[JobRecord], bool]) -> None:
        self._pool = pool
        self._skip = skip
        self._leaves = [_Leaf(queue, jobs) for queue, jobs in leaves]
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
        jobs = leaf.jobs
        while leaf.at < len(jobs) and (jobs[leaf.at].pods is not None or self._skip(jobs[leaf.at])):
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

"""The order in which queues and pods are served, and in which victims are picked (docs/scheduler.md §2).

Pods come out of a two-level priority queue: the best department, then its best project, then that
project's best pod. Queues are compared with their next pod counted in, so a queue's turn comes back as
soon as what it holds changes. Inside a project the pending pods sit in shapes (state.py); the project's
next pod is the best head among its shapes, and a shape that is skipped is passed over whole.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator

from mockserver.cluster.scheduler.queues import QueueState
from mockserver.cluster.scheduler.state import JobKey, PodRecord, Shape
from mockserver.cluster.scheduler.vector import EPSILON, GPU, ZERO, ResourceVector
from mockserver.cluster.topology import UNLIMITED

QueueKey = tuple[bool, bool, int, bool, float, float, float, int]


def job_key(record: PodRecord) -> JobKey:
    """Higher priority first, then older, then id, then pod index."""
    return record.key


def victim_key(record: PodRecord) -> JobKey:
    """Lowest priority first, then newest (the last pod of a job first)."""
    return (record.job.priority, -record.job.seq, record.job.id, -record.index)


def _dominant_share(queue: QueueState, request: ResourceVector) -> tuple[float, float, bool]:
    """max over resources of held / allocatable share, with and without the pod; and whether the pod asks
    for a resource the queue may not hold at all."""
    with_job = without_job = 0.0
    penalised = False
    for held, asked, share in zip(queue.allocated, request, queue.shares, strict=True):
        if share == math.inf:
            continue
        if share <= EPSILON:
            penalised = penalised or asked > 0
            if held + asked > 0:
                with_job = math.inf
            if held > 0:
                without_job = math.inf
            continue
        # as max(with_job, ...) and max(without_job, ...), without the calls
        ratio = (held + asked) / share
        if ratio > with_job:
            with_job = ratio
        ratio = held / share
        if ratio > without_job:
            without_job = ratio
    return with_job, without_job, penalised


def queue_key(queue: QueueState, request: ResourceVector) -> QueueKey:
    """KAI's queue comparator as a sort key; `request` is the queue's next pod."""
    over_fair_share = False
    starved = True
    for held, asked, fair, deserved in zip(
        queue.allocated, request, queue.fair_share, queue.deserved, strict=True
    ):
        if held > fair + EPSILON:
            over_fair_share = True
        if deserved != UNLIMITED and held + asked > deserved + EPSILON:
            starved = False
    with_job, without_job, penalised = _dominant_share(queue, request)
    return (
        over_fair_share,
        not starved,
        -queue.priority,
        penalised,
        with_job,
        without_job,
        queue.shares[GPU],
        queue.creation,
    )


def victim_queue_key(queue: QueueState) -> tuple[bool, bool, int, float, int]:
    """The most over-served queue first: over fair share, over deserved, lower priority, larger share."""
    over_fair_share = queue.allocated.exceeds(queue.fair_share)
    over_deserved = queue.allocated.exceeds(queue.deserved)
    _, share, _ = _dominant_share(queue, ZERO)
    return (not over_fair_share, not over_deserved, queue.priority, -share, queue.creation)


class _Cursor:
    """A shape's pending pods from `at` on, as one stream of an action."""

    __slots__ = ("at", "shape")

    def __init__(self, shape: Shape) -> None:
        self.shape = shape
        self.at = 0

    def head(self) -> PodRecord | None:
        members = self.shape.members
        while self.at < len(members) and members[self.at].pods is not None:
            self.at += 1
        return members[self.at] if self.at < len(members) else None


class _Leaf:
    """One project queue's shapes, merged into the project's pod order."""

    __slots__ = ("current", "cursors", "heap", "queue")

    def __init__(self, queue: QueueState, shapes: list[Shape]) -> None:
        self.queue = queue
        self.cursors = [_Cursor(shape) for shape in shapes]
        # (order of the cursor's head, tie-break, cursor, the cursor position the order was taken at)
        self.heap: list[tuple[JobKey, int, _Cursor, int]] = []
        # The head `head` last found; `take` and `peek` answer it without judging it again.
        self.current: PodRecord | None = None

    def reset(self) -> None:
        self.heap = []
        for n, cursor in enumerate(self.cursors):
            head = cursor.head()
            if head is not None:
                self.heap.append((job_key(head), n, cursor, cursor.at))
        heapq.heapify(self.heap)

    def head(self, skip: Callable[[PodRecord], bool]) -> PodRecord | None:
        """The project's next pod; a shape whose head is skipped leaves this action."""
        heap = self.heap
        while heap:
            _, n, cursor, at = heap[0]
            # The cursor's head: the first pending pod from its position on (as _Cursor.head, inlined).
            members = cursor.shape.members
            position = cursor.at
            size = len(members)
            while position < size and members[position].pods is not None:
                position += 1
            cursor.at = position
            if position >= size:
                heapq.heappop(heap)
                continue
            head = members[position]
            if position != at:
                heapq.heapreplace(heap, (head.key, n, cursor, position))
            elif skip(head):
                cursor.at = size
                heapq.heappop(heap)
            else:
                self.current = head
                return head
        self.current = None
        return None

    def take(self) -> PodRecord:
        """The pod `head` last returned (not judged again: the queue order was built on it); move past it."""
        record = self.current
        assert record is not None  # a leaf is in the order only with a head
        self.heap[0][2].at += 1
        self.current = None
        return record

    def peek(self) -> PodRecord:
        assert self.current is not None
        return self.current


Leaves = list[tuple[QueueState, list[Shape]]]


def leaves_of(shapes: list[Shape], projects: dict[tuple[str, str], QueueState], pool: str) -> Leaves:
    """Group shapes by project queue, queues in topology order."""
    by_queue: dict[int, tuple[QueueState, list[Shape]]] = {}
    for shape in shapes:
        queue = projects[shape.project_id, pool]
        by_queue.setdefault(id(queue), (queue, []))[1].append(shape)
    return sorted(by_queue.values(), key=lambda leaf: leaf[0].creation)


_Entry = tuple[QueueKey, int, _Leaf]
_ParentEntry = tuple[QueueKey, int, QueueState]


class QueueOrder:
    """Yields the waiting pods of one node pool in KAI's order. Pods placed meanwhile are passed over, and
    `skip(record)` may drop a pod's whole shape without trying it. Call `invalidate()` after changing
    other queues' holdings (evictions) so that the order is rebuilt."""

    def __init__(self, pool: str, leaves: Leaves, skip: Callable[[PodRecord], bool]) -> None:
        self._pool = pool
        self._skip = skip
        self._leaves = [_Leaf(queue, shapes) for queue, shapes in leaves]
        for leaf in self._leaves:
            leaf.reset()
        self._stale = True

    def invalidate(self) -> None:
        self._stale = True

    def __iter__(self) -> Iterator[PodRecord]:
        pool, skip = self._pool, self._skip
        heappop, heappush = heapq.heappop, heapq.heappush
        top: list[_ParentEntry] = []
        children: dict[int, list[_Entry]] = {}
        while True:
            if self._stale:
                top, children = self._rebuild()
                self._stale = False
            if not top:
                return
            _, _, parent = heappop(top)
            heap = children[id(parent)]
            _, _, leaf = heappop(heap)
            record = leaf.take()
            yield record
            if self._stale:
                continue
            # _leaf_entry and _parent_entry, inlined: this runs once per pod served.
            head = leaf.head(skip)
            if head is not None:
                queue = leaf.queue
                heappush(heap, (queue_key(queue, head.shape.requests[pool]), queue.creation, leaf))
            if heap:
                head = heap[0][2].peek()
                heappush(top, (queue_key(parent, head.shape.requests[pool]), parent.creation, parent))

    def _leaf_entry(self, leaf: _Leaf) -> _Entry | None:
        head = leaf.head(self._skip)
        if head is None:
            return None
        return (queue_key(leaf.queue, head.shape.requests[self._pool]), leaf.queue.creation, leaf)

    def _parent_entry(self, parent: QueueState, heap: list[_Entry]) -> _ParentEntry:
        head = heap[0][2].peek()
        return (queue_key(parent, head.shape.requests[self._pool]), parent.creation, parent)

    def _rebuild(self) -> tuple[list[_ParentEntry], dict[int, list[_Entry]]]:
        children: dict[int, list[_Entry]] = {}
        parents: dict[int, QueueState] = {}
        for leaf in self._leaves:
            entry = self._leaf_entry(leaf)
            if entry is None:
                continue
            parent = leaf.queue.parent
            assert parent is not None
            parents[id(parent)] = parent
            children.setdefault(id(parent), []).append(entry)
        top = []
        for key, heap in children.items():
            heapq.heapify(heap)
            top.append(self._parent_entry(parents[key], heap))
        heapq.heapify(top)
        return top, children

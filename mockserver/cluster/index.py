"""Where each workload is — by project, phase, type and name — so lists and counts cost the page, not the
population.

The engine tells the index when a workload is submitted, changes phase and is removed (three hook calls);
a list answer then asks for the ids of one page in one order, and a count for a size, without looking at
the other workloads. Submission order is the index's own order: every workload takes the next number of
the engine's submission sequence, and its creation time never decreases along it.

The index answers exactly what a brute-force filter over the rendered workloads would: `field == value` on
the indexed fields, restricted to the caller's projects, in submission order or by name, ascending or
descending. Ties keep submission order in both directions, as a stable sort of the rendered rows does.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum

# Below this many candidates a page is cut from the sorted candidates; above it the ordered index is
# walked until the page is full, which stops early because the candidates are then dense.
_SORT_BELOW = 4096


class Field(Enum):
    """The fields a list can be narrowed by through the index (`field == value`)."""

    PROJECT = "projectId"
    PHASE = "phase"
    TYPE = "type"
    NAME = "name"


# Fields with a set of ids per value; names are nearly all distinct, so they are looked up in the sorted
# list instead (a set per name would cost about 500 bytes a workload).
BUCKETED = (Field.PROJECT, Field.PHASE, Field.TYPE)


class Order(Enum):
    SUBMITTED = "submitted"  # also creation time: it never decreases along the submission sequence
    NAME = "name"


@dataclass(frozen=True, slots=True)
class Entry:
    workload_id: str
    seq: int
    project_id: str
    type: str
    name: str
    phase: str
    # Creation time to the millisecond, as the API's date-times show it: rows sorted by createdAt tie on it.
    created_ms: int

    def value(self, field: Field) -> str:
        if field is Field.PROJECT:
            return self.project_id
        if field is Field.PHASE:
            return self.phase
        if field is Field.TYPE:
            return self.type
        return self.name


@dataclass(frozen=True)
class Query:
    """Every `equal` pair must hold; `projects` (None: every project) bounds what the caller may see."""

    equal: tuple[tuple[Field, str], ...] = ()
    projects: frozenset[str] | None = None
    order: Order = Order.SUBMITTED
    descending: bool = False


def milliseconds(timestamp: float) -> int:
    """The millisecond the API shows for a timestamp (its date-times are cut, not rounded)."""
    moment = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    return int(moment.replace(microsecond=0).timestamp()) * 1000 + moment.microsecond // 1000


class WorkloadIndex:
    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}  # in submission order
        self._buckets: dict[Field, dict[str, set[str]]] = {field: {} for field in BUCKETED}
        self._by_name: list[tuple[str, int, str]] = []  # (name, seq, id), sorted

    # ------------------------------------------------------------------ hooks
    def add(
        self, workload_id: str, seq: int, project_id: str, kind: str, name: str, phase: str, created: float
    ) -> None:
        self.put(Entry(workload_id, seq, project_id, kind, name, phase, milliseconds(created)))

    def put(self, entry: Entry) -> None:
        """Index an entry (also one another index held: a removed training moving to the deleted ones)."""
        workload_id = entry.workload_id
        self.remove(workload_id)
        self._entries[workload_id] = entry
        for field in BUCKETED:
            self._buckets[field].setdefault(entry.value(field), set()).add(workload_id)
        bisect.insort(self._by_name, (entry.name, entry.seq, workload_id))

    def moved(self, workload_id: str, phase: str) -> None:
        """The workload entered `phase`."""
        entry = self._entries.get(workload_id)
        if entry is None or entry.phase == phase:
            return
        self._drop(Field.PHASE, entry.phase, workload_id)
        self._buckets[Field.PHASE].setdefault(phase, set()).add(workload_id)
        self._entries[workload_id] = Entry(
            workload_id, entry.seq, entry.project_id, entry.type, entry.name, phase, entry.created_ms
        )

    def remove(self, workload_id: str) -> Entry | None:
        entry = self._entries.pop(workload_id, None)
        if entry is None:
            return None
        for field in BUCKETED:
            self._drop(field, entry.value(field), workload_id)
        key = (entry.name, entry.seq, workload_id)
        at = bisect.bisect_left(self._by_name, key)
        if at < len(self._by_name) and self._by_name[at] == key:
            del self._by_name[at]
        return entry

    def _drop(self, field: Field, value: str, workload_id: str) -> None:
        bucket = self._buckets[field].get(value)
        if bucket is not None:
            bucket.discard(workload_id)
            if not bucket:
                del self._buckets[field][value]

    # ------------------------------------------------------------------ reads
    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, workload_id: object) -> bool:
        return workload_id in self._entries

    def entry(self, workload_id: str) -> Entry | None:
        return self._entries.get(workload_id)

    def entries(self) -> list[Entry]:
        """Every entry in submission order (for checks; a list answer asks for a page)."""
        return list(self._entries.values())

    def count(self, query: Query) -> int:
        sets = self._candidate_sets(query)
        if sets is None:
            return len(self._entries)
        smallest, others = _split(sets)
        if not others:
            return len(smallest)
        return sum(1 for wid in smallest if all(wid in other for other in others))

    def page(self, query: Query, offset: int = 0, limit: int | None = None) -> list[str]:
        """The ids of the workloads `offset` … `offset + limit` of the query's answer, in its order."""
        stop = None if limit is None else offset + limit
        return list(itertools.islice(self._ordered(query), max(0, offset), stop))

    def _ordered(self, query: Query) -> Iterator[str]:
        sets = self._candidate_sets(query)
        if sets is not None:
            smallest, others = _split(sets)
            if len(smallest) < _SORT_BELOW:
                chosen = [self._entries[w] for w in smallest if all(w in other for other in others)]
                return (e.workload_id for e in self._sorted(chosen, query))
            return (w for w in self._walk(query) if all(w in s for s in sets))
        return self._walk(query)

    def _sorted(self, chosen: list[Entry], query: Query) -> list[Entry]:
        chosen.sort(key=lambda e: e.seq)
        if query.order is Order.NAME:
            # Stable: ties on the name stay in submission order, whichever the direction.
            chosen.sort(key=lambda e: e.name, reverse=query.descending)
        elif query.descending:
            chosen.sort(key=lambda e: e.created_ms, reverse=True)
        return chosen

    def _walk(self, query: Query) -> Iterator[str]:
        """Every id in the query's order (ties in submission order)."""
        if query.order is Order.NAME:
            keyed: Iterable[tuple[object, str]] = ((name, wid) for name, _, wid in self._by_name)
            source = reversed(self._by_name) if query.descending else None
            if source is not None:
                keyed = ((name, wid) for name, _, wid in source)
        elif query.descending:
            keyed = ((e.created_ms, e.workload_id) for e in reversed(self._entries.values()))
        else:
            return iter(self._entries)
        return _ties_forward(keyed) if query.descending else (wid for _, wid in keyed)

    def _named(self, name: str) -> set[str]:
        """The ids of the workloads called `name`: a range of the name-sorted list (no set per name)."""
        by_name = self._by_name
        at, found = bisect.bisect_left(by_name, (name,)), set()
        while at < len(by_name) and by_name[at][0] == name:
            found.add(by_name[at][2])
            at += 1
        return found

    def _candidate_sets(self, query: Query) -> list[set[str]] | None:
        """The sets every answer lies in (None: no narrowing); an empty set when nothing can match."""
        sets: list[set[str]] = []
        for field, value in query.equal:
            sets.append(self._named(value) if field is Field.NAME else self._buckets[field].get(value, set()))
        if query.projects is not None:
            buckets = self._buckets[Field.PROJECT]
            mine = [buckets[p] for p in query.projects if p in buckets]
            if len(mine) != len(buckets):  # a caller of every project that has workloads: no narrowing
                sets.append(set().union(*mine) if len(mine) != 1 else mine[0])
        return sets or None


def _split(sets: list[set[str]]) -> tuple[set[str], list[set[str]]]:
    smallest = min(sets, key=len)
    return smallest, [s for s in sets if s is not smallest]


def _ties_forward(keyed: Iterable[tuple[object, str]]) -> Iterator[str]:
    """A descending walk whose equal keys come out in submission order (the walk meets them reversed)."""
    for _, run in itertools.groupby(keyed, key=lambda pair: pair[0]):
        yield from reversed([wid for _, wid in run])

"""`GET /workloads` and `/workloads/count` at the cost of the page, not of the population.

The cluster keeps an index of its workloads by project, phase, type and name (`cluster/index.py`). A list
whose every filter is `==` on one of those fields, without `search`, sorted by nothing, `createdAt` or
`name`, is answered from the index: the ids of the page are picked there and only those workloads are
rendered; a count renders nothing. Any other list (other fields or operators, `search`, other sorts) is
answered by rendering the candidates the indexed filters leave and filtering those rows — slower, so it
runs in a worker thread and takes the cluster's lock for a few hundred workloads at a time, and a single
GET never waits for it. Both paths give the same answer (tests/scale compares them).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from mockserver.cluster.cluster import FakeCluster
from mockserver.cluster.errors import NotFound
from mockserver.cluster.index import Field, Order, Query
from mockserver.cluster.reader import ClusterReader
from mockserver.cluster.workload import Workload
from mockserver.handlers.state import MockState, caller, current
from mockserver.http.errors import error_response
from mockserver.views import workloads as views
from mockserver.views.facts import WorkloadFacts, of_workload
from mockserver.views.filtering import (
    Fields,
    Filter,
    QueryError,
    check_sort,
    matches,
    page,
    parse_filters,
    window,
)

INDEXED_FIELDS = {"projectId": Field.PROJECT, "phase": Field.PHASE, "type": Field.TYPE, "name": Field.NAME}
INDEXED_SORTS = {None: Order.SUBMITTED, "createdAt": Order.SUBMITTED, "name": Order.NAME}
# Workloads rendered per hold of the cluster's lock on the slow path: a few milliseconds each.
CHUNK = 300
# How long an indexed page holds the event loop at a time (seconds): a single GET waits behind a list for
# about that long, never for the whole page (bench/scale_lists.py). A turn lasts longer while the loop is
# busy (a share of the last wait for it, up to MAX_TURN_SECONDS): when many clients keep the loop busy,
# each turn sends the list to the back of a long queue, and 0.1 ms per round of them all would make a
# page of 50 take hundreds of milliseconds (bench/mixed_load.py).
TURN_SECONDS = 0.0001
MAX_TURN_SECONDS = 0.01
WAIT_SHARE = 0.25


class Turns:
    """The length of a list's turns on this process's event loop, from how long it last waited for it."""

    def __init__(self) -> None:
        self.last_wait = 0.0

    def length(self) -> float:
        return min(MAX_TURN_SECONDS, max(TURN_SECONDS, WAIT_SHARE * self.last_wait))

    async def give_way(self) -> None:
        """Let the event loop serve the others, and note how long that took."""
        yielded = time.perf_counter()
        await _turn()
        self.last_wait = time.perf_counter() - yielded


TURNS = Turns()


@dataclass(frozen=True)
class Plan:
    """What the index answers (`query`) and what is left to a filter over rendered rows."""

    query: Query
    rest: tuple[Filter, ...]
    search: str
    sort_by: str | None
    sort_order: str | None
    deleted: bool

    @property
    def from_index(self) -> bool:
        return not self.rest and not self.search and self.sort_by in INDEXED_SORTS


def plan(query: dict[str, Any], known: Fields, projects: frozenset[str] | None, search: str | None) -> Plan:
    """Read the list parameters (QueryError for a bad one) and split them between index and rows."""
    filters = parse_filters(query.get("filterBy"), known)
    sort_by, sort_order = query.get("sortBy"), query.get("sortOrder")
    check_sort(sort_by, sort_order, known)
    equal = tuple(
        (INDEXED_FIELDS[f.field], f.value)
        for f in filters
        if f.operator == "==" and f.field in INDEXED_FIELDS
    )
    rest = tuple(f for f in filters if not (f.operator == "==" and f.field in INDEXED_FIELDS))
    needle = (search or "").strip().lower()
    order = INDEXED_SORTS.get(sort_by, Order.SUBMITTED)
    indexed = Query(equal, projects, order, descending=sort_by in INDEXED_SORTS and sort_order == "desc")
    return Plan(indexed, rest, needle, sort_by, sort_order, bool(query.get("deleted")))


def workload_of(reader: ClusterReader, workload_id: str, deleted: bool) -> Workload | None:
    """The workload behind an index entry (None if it went since the ids were read)."""
    try:
        return reader.workload(workload_id, deleted=deleted)
    except NotFound:
        return None


def facts_of(reader: ClusterReader, workload_id: str, deleted: bool) -> WorkloadFacts | None:
    workload = workload_of(reader, workload_id, deleted)
    return None if workload is None else of_workload(workload, reader.placed(workload_id))


def _search(state: MockState, query: dict[str, Any]) -> str | None:
    return query.get("search") if state.version.search else None


async def list_workloads(query: dict[str, Any]) -> Any:
    state, principal = current(), caller()
    known = views.workload_fields(state.version)
    try:
        chosen = plan(query, known, principal.projects, _search(state, query))
        start, size = window(query.get("offset"), query.get("limit"))
    except QueryError as error:
        return error_response(400, str(error))
    if chosen.from_index:
        return await _indexed_page(state, chosen, start, size)
    rows, following = await asyncio.to_thread(_filtered_page, state, chosen, known, start, size)
    answer: dict[str, Any] = {"workloads": rows}
    if following is not None:
        answer["next"] = following
    return answer, 200


async def count(query: dict[str, Any]) -> Any:
    state, principal = current(), caller()
    known = views.workload_fields(state.version)
    try:
        chosen = plan(query, known, principal.projects, _search(state, query))
    except QueryError as error:
        return error_response(400, str(error))
    if chosen.from_index:
        with state.cluster.reading() as reader:
            return {"count": reader.index(deleted=chosen.deleted).count(chosen.query)}, 200
    rows = await asyncio.to_thread(_filtered, state, chosen, known)
    return {"count": len(rows)}, 200


async def _indexed_page(state: MockState, chosen: Plan, start: int, size: int) -> Response:
    """The page's rows read, rendered and encoded a turn at a time (`Turns`), the event loop served before
    each: a single GET waits for one turn, never for the page (nor for its encoding, done here row by row
    rather than by Connexion after the handler). Giving way before the first turn too lets a GET that
    arrived while the list's request was being read go first (a poller's back-to-back lists otherwise
    kept it waiting that long as well: p99 1.9-2.2x idle instead of 1.3-1.6x). The body is what
    Connexion would write for `{"workloads": rows, "next": …}`."""
    with state.cluster.reading() as reader:
        ids = reader.index(deleted=chosen.deleted).page(chosen.query, start, size + 1)
    wanted = ids[:size]
    encoded: list[str] = []
    at = 0
    while at < len(wanted):
        await TURNS.give_way()
        turn_ends = time.perf_counter() + TURNS.length()
        topology = state.cluster.topology
        with state.cluster.reading() as reader:
            now = reader.now()
            while at < len(wanted):
                wid = wanted[at]
                at += 1
                workload = workload_of(reader, wid, chosen.deleted)
                if workload is not None:
                    encoded.append(
                        state.rows.text(state.version, topology, workload, reader.placed(wid), now)
                    )
                if time.perf_counter() >= turn_ends:
                    break
    following = f', "next": {start + size}' if len(ids) > size else ""
    body = '{"workloads": [' + ", ".join(encoded) + "]" + following + "}\n"
    return Response(body, 200, media_type="application/json")


async def _turn() -> None:
    """Let the event loop serve others."""
    await asyncio.sleep(0)


def _filtered(state: MockState, chosen: Plan, known: Fields) -> list[dict[str, Any]]:
    """The rows that pass every filter, rendered a chunk at a time (a worker thread runs this)."""
    cluster: FakeCluster = state.cluster
    with cluster.reading() as reader:
        ids = reader.index(deleted=chosen.deleted).page(Query(chosen.query.equal, chosen.query.projects))
    rows: list[dict[str, Any]] = []
    for at in range(0, len(ids), CHUNK):
        with cluster.reading() as reader:
            found = [facts_of(reader, wid, chosen.deleted) for wid in ids[at : at + CHUNK]]
            now = reader.now()
        for facts in found:
            if facts is None:
                continue
            row = views.workload(state.version, cluster.topology, facts, now)
            if _keeps(row, chosen.rest, chosen.search, known):
                rows.append(row)
    return rows


def _keeps(row: dict[str, Any], rest: Sequence[Filter], needle: str, known: Fields) -> bool:
    if not all(matches(row, f, known) for f in rest):
        return False
    return not needle or needle in str(known.read(row, "name") or "").lower()


def _filtered_page(
    state: MockState, chosen: Plan, known: Fields, start: int, size: int
) -> tuple[list[dict[str, Any]], int | None]:
    rows = _filtered(state, chosen, known)
    cut = page(rows, known, sort_by=chosen.sort_by, sort_order=chosen.sort_order, offset=start, limit=size)
    return cut.items, cut.next

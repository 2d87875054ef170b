"""The workloads API: every workload of every kind (and control-API load), with its pods, events and history.

Each answer is rendered from the cluster's own workloads, placements and event log at the time of
the request; nothing is copied or cached, so the views cannot drift from the trainings API. Lists and
counts pick their workloads through the cluster's index (`workload_lists.py`).
"""

from __future__ import annotations

from typing import Any

from mockserver.cluster.errors import Forbidden
from mockserver.cluster.reader import ClusterReader
from mockserver.handlers.listing import listed
from mockserver.handlers.state import caller, current
from mockserver.handlers.workload_lists import count, list_workloads
from mockserver.views import workloads as views
from mockserver.views.events import event, history
from mockserver.views.facts import WorkloadFacts, of_workload
from mockserver.views.filtering import fields
from mockserver.views.pods import pods as pod_views


def _one(cluster: ClusterReader, workload_id: str) -> WorkloadFacts:
    """A live workload, or a deleted one still within its retention; 403 outside the caller's projects."""
    found = of_workload(cluster.workload(workload_id, deleted=True), cluster.placed(workload_id))
    if not caller().may_use(found.project_id):
        raise Forbidden()
    return found


async def get_workloads(**query: Any) -> Any:
    return await list_workloads(query)


async def count_workloads(**query: Any) -> Any:
    return await count(query)


async def get_workload(workloadId: str, **_: Any) -> Any:
    state = current()
    with state.cluster.reading() as cluster:
        facts, now = _one(cluster, workloadId), cluster.now()
    return views.workload(state.version, state.cluster.topology, facts, now, detailed=True), 200


def _paged(
    items: list[dict[str, Any]], key: str, query: dict[str, Any], *, newest_first: bool = False
) -> Any:
    ordered = items[::-1] if newest_first else items
    return listed(key, ordered, fields({}), offset=query.get("offset"), limit=query.get("limit"))


async def get_workload_events(workloadId: str, **query: Any) -> Any:
    state = current()
    with state.cluster.reading() as cluster:
        facts, log = _one(cluster, workloadId), cluster.events_for(workloadId)
    events = [event(state.cluster.topology, facts, e) for e in log]
    # Later documents order events newest first unless asked otherwise; 2.18 has no sortOrder.
    order = query.get("sortOrder") or ("desc" if state.version.events_newest_first else "asc")
    return _paged(events, "events", query, newest_first=order == "desc")


async def get_workload_history(workloadId: str, **query: Any) -> Any:
    state = current()
    with state.cluster.reading() as cluster:
        facts, log = _one(cluster, workloadId), cluster.events_for(workloadId)
    records = history(state.cluster.topology, facts, log)
    return _paged(records, "records", query)


async def get_workload_pods(workloadId: str, **query: Any) -> Any:
    state = current()
    with state.cluster.reading() as cluster:
        facts = _one(cluster, workloadId)
    pods = pod_views(state.version, state.cluster.topology, facts)
    if query.get("search") and state.version.search:
        needle = str(query["search"]).lower()
        pods = [p for p in pods if needle in p["name"].lower()]
    if query.get("deleted"):
        pods = []  # the fake keeps no pods of earlier attempts
    return _paged(pods, "pods", query)

"""`GET /workloads/pods` and `/workloads/pods/count`: the pods of every workload the caller may see, and
the org-unit counts (`/org-unit/projects/count`, `/org-unit/departments/count`).

The pods are those the per-workload view shows (`views/pods.py`), so the two never disagree. Only
workloads in a phase with pods are read, picked through the cluster's index by phase, so a cluster of
finished work costs nothing here. A workload with active pods lists its finished ones too (a Job's
succeeded pods, kept until it goes); those of finished or removed workloads are not read:
`deleted=true` and `completed=true` find none.
"""

from __future__ import annotations

from typing import Any

from mockserver.cluster.index import Field, Query
from mockserver.handlers.listing import listed
from mockserver.handlers.organization import _may_see_department, _organisation
from mockserver.handlers.state import MockState, caller, current
from mockserver.http.errors import error_response
from mockserver.views import organization as org_views
from mockserver.views.facts import of_workload
from mockserver.views.filtering import Fields, QueryError, select
from mockserver.views.pods import PHASES_WITH_PODS, pod_fields, pods


def _every_pod(state: MockState, query: dict[str, Any]) -> list[dict[str, Any]]:
    if query.get("deleted") or str(query.get("completed", "")).lower() == "true":
        return []
    projects = caller().projects
    with state.cluster.reading() as reader:
        index = reader.index()
        ids = [
            wid
            for phase in sorted(PHASES_WITH_PODS)
            for wid in index.page(Query(((Field.PHASE, phase),), projects))
        ]
        entries = sorted((e for wid in ids if (e := index.entry(wid)) is not None), key=lambda e: e.seq)
        found = [of_workload(reader.workload(e.workload_id), reader.placed(e.workload_id)) for e in entries]
    rows = [pod for facts in found for pod in pods(state.version, state.cluster.topology, facts)]
    if query.get("verbosity") != "full":  # the names of the workload and project only when asked for
        for pod in rows:
            pod.pop("workloadName", None)
            pod.pop("projectName", None)
    return rows


def _search(state: MockState, query: dict[str, Any]) -> str | None:
    return query.get("search") if state.version.search else None


async def list_pods(**query: Any) -> Any:
    state = current()
    return listed(
        "pods",
        _every_pod(state, query),
        pod_fields(state.version),
        filter_by=query.get("filterBy"),
        search=_search(state, query),
        sort_by=query.get("sortBy"),
        sort_order=query.get("sortOrder"),
        offset=query.get("offset"),
        limit=query.get("limit"),
    )


def _count(items: list[dict[str, Any]], known: Fields, query: dict[str, Any], search: str | None) -> Any:
    try:
        return {"count": len(select(items, known, filter_by=query.get("filterBy"), search=search))}, 200
    except QueryError as error:
        return error_response(400, str(error))


async def count_pods(**query: Any) -> Any:
    state = current()
    return _count(_every_pod(state, query), pod_fields(state.version), query, _search(state, query))


async def count_projects(**query: Any) -> Any:
    state, principal = current(), caller()
    org = _organisation(state)
    visible = [p for p in org.topology.projects.values() if principal.may_use(p.id)]
    items = org_views.projects(state.version, org, visible)
    return _count(items, org_views.project_fields(state.version, org.topology), query, _search(state, query))


async def count_departments(**query: Any) -> Any:
    state, principal = current(), caller()
    org = _organisation(state)
    items = [
        org_views.department(state.version, org, d, listed=True)
        for d in org.topology.departments.values()
        if _may_see_department(principal, state, d.id)
    ]
    return _count(items, org_views.department_fields(state.version), query, None)

"""Clusters, projects, departments and node pools: read-only views of the simulated cluster's topology."""

from __future__ import annotations

from typing import Any

from mockserver.cluster.errors import Forbidden, NotFound
from mockserver.handlers.listing import listed
from mockserver.handlers.state import MockState, caller, current
from mockserver.http.auth import Principal
from mockserver.views import organization as views
from mockserver.views.filtering import Fields


def _organisation(state: MockState) -> views.Organisation:
    with state.cluster.reading() as cluster:  # one instant for the whole answer
        snapshot, now = cluster.scheduler_snapshot(), cluster.now()
    return views.Organisation.of(state.cluster.topology, snapshot, now, state.cluster.clock.start)


def _may_see_department(principal: Principal, state: MockState, department_id: str) -> bool:
    projects = state.cluster.topology.projects.values()
    return any(p.department_id == department_id and principal.may_use(p.id) for p in projects)


def _listing(
    items: list[dict[str, Any]], known: Fields, key: str, query: dict[str, Any], *, search: bool
) -> Any:
    return listed(
        key,
        items,
        known,
        filter_by=query.get("filterBy"),
        search=query.get("search") if search else None,
        sort_by=query.get("sortBy"),
        sort_order=query.get("sortOrder"),
        offset=query.get("offset"),
        limit=query.get("limit"),
    )


async def get_clusters(**_: Any) -> Any:
    state = current()
    return [views.cluster(state.version, _organisation(state))], 200


async def get_cluster_by_uuid(clusterUuid: str, **_: Any) -> Any:
    state = current()
    if clusterUuid.lower() != state.cluster.topology.cluster_id.lower():
        raise NotFound()
    return views.cluster(state.version, _organisation(state)), 200


async def get_projects(**query: Any) -> Any:
    state, principal = current(), caller()
    org = _organisation(state)
    visible = [p for p in org.topology.projects.values() if principal.may_use(p.id)]
    items = views.projects(state.version, org, visible)
    known = views.project_fields(state.version, org.topology)
    return _listing(items, known, "projects", query, search=state.version.search)


async def get_project(projectId: str, **_: Any) -> Any:
    state = current()
    org = _organisation(state)
    project = org.topology.project(projectId)
    if project is None:
        raise NotFound()
    if not caller().may_use(project.id):
        raise Forbidden()
    return views.project(state.version, org, project), 200


async def get_departments(**query: Any) -> Any:
    state, principal = current(), caller()
    org = _organisation(state)
    items = [
        views.department(state.version, org, d, listed=True)
        for d in org.topology.departments.values()
        if _may_see_department(principal, state, d.id)
    ]
    return _listing(items, views.department_fields(state.version), "departments", query, search=False)


async def get_department(departmentId: str, **_: Any) -> Any:
    state = current()
    org = _organisation(state)
    department = org.topology.departments.get(departmentId)
    if department is None:
        raise NotFound()
    if not _may_see_department(caller(), state, department.id):
        raise Forbidden()
    return views.department(state.version, org, department, listed=False), 200


async def getNodePools(clusterId: str, **_: Any) -> Any:
    state = current()
    if clusterId.lower() != state.cluster.topology.cluster_id.lower():
        raise NotFound()
    org = _organisation(state)
    return [views.node_pool(state.version, org, pool) for pool in org.topology.node_pools], 200


async def get_nodepools(**query: Any) -> Any:
    state = current()
    org = _organisation(state)
    items = [views.node_pool(state.version, org, pool) for pool in org.topology.node_pools]
    return _listing(items, views.NODE_POOL_FIELDS, "nodepools", query, search=False)

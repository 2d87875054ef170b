"""Where to create trainings when the user did not say: the project and cluster the backend offers.

Any backend is asked through the Run:ai project look-up (`GET /api/v1/org-unit/projects`, and
`GET /api/v1/clusters` when the projects do not name their cluster), when the token may read them; our
fake's control snapshot answers only what that leaves open.
"""

from __future__ import annotations

from typing import Any

import httpx

from contracts import limits
from contracts.backend.control import FakeControl
from contracts.backend.target import Placement


class DiscoveryError(Exception):
    """The backend would not say where to create trainings."""


def discover(
    base_url: str, token: str, control: FakeControl | None, project_id: str | None, cluster_id: str | None
) -> Placement:
    if project_id and cluster_id:
        return Placement(project_id, cluster_id)
    found = _from_api(base_url, token)
    if control is not None and not (found.get("project") and found.get("cluster")):
        found = {**_from_snapshot(control), **{k: v for k, v in found.items() if v}}
    project, cluster = project_id or found.get("project"), cluster_id or found.get("cluster")
    if not project or not cluster:
        missing = " and ".join(
            flag for flag, value in (("--project-id", project), ("--cluster-id", cluster)) if not value
        )
        raise DiscoveryError(f"the backend does not list its projects/clusters to this token: pass {missing}")
    return Placement(str(project), str(cluster))


def _from_snapshot(control: FakeControl) -> dict[str, Any]:
    snapshot = control.snapshot()
    projects = snapshot.get("projects") or []
    first = projects[0] if projects and isinstance(projects[0], dict) else {}
    return {"project": first.get("id") or first.get("projectId"), "cluster": snapshot.get("clusterId")}


def _from_api(base_url: str, token: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    found: dict[str, Any] = {}
    with limits.new_client(base_url=base_url, headers=headers, timeout=30) as client:
        projects = _get(client, "/api/v1/org-unit/projects")
        items = projects.get("projects") if isinstance(projects, dict) else None
        first = items[0] if items and isinstance(items[0], dict) else {}
        found["project"] = first.get("id")
        found["cluster"] = first.get("clusterId")
        if not found["cluster"]:
            clusters = _get(client, "/api/v1/clusters")
            if isinstance(clusters, list) and clusters and isinstance(clusters[0], dict):
                found["cluster"] = clusters[0].get("uuid")
    return {key: str(value) for key, value in found.items() if value not in (None, "")}


def _get(client: httpx.Client, path: str) -> Any:
    try:
        response = limits.request(client, "GET", path)
        return response.json() if response.status_code == 200 else None
    except limits.OutOfTime:
        raise
    except (httpx.HTTPError, ValueError):
        return None

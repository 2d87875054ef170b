"""A workload's pods as the workloads API shows them: placed ones on their nodes, the rest still pending;
and the fields by which `GET /workloads/pods` filters and sorts the pods of every workload."""

from __future__ import annotations

import uuid
from typing import Any

from mockserver.cluster.clock import isoformat
from mockserver.cluster.topology import Topology
from mockserver.versions import ApiVersion
from mockserver.views.facts import IDS, WorkloadFacts
from mockserver.views.filtering import Fields, Kind, fields
from mockserver.views.organization import TENANT_ID
from mockserver.views.resources import pod_allocated, requested

# The phases in which a workload has pods (a rollout's new pods wait in Updating).
PHASES_WITH_PODS = frozenset({"Pending", "Initializing", "Running", "Updating", "Terminating"})


def _pod_id(facts: WorkloadFacts, index: int) -> str:
    return str(uuid.uuid5(IDS, f"pod/{facts.id}/{index}/{facts.restarts}"))


def pods(version: ApiVersion, topology: Topology, facts: WorkloadFacts) -> list[dict[str, Any]]:
    """The pods Kubernetes would show: placed ones on their nodes, the rest of the gang still pending."""
    if facts.phase not in PHASES_WITH_PODS:
        return []
    project = topology.project(facts.project_id)
    started = isoformat(facts.phase_since)
    out = []
    # Running pods by their index: an elastic gang's evicted worker leaves a gap among them.
    by_index = {placed.index: placed for placed in facts.placement}
    for index in range(facts.pods):
        placed = by_index.get(index)
        running = placed is not None and facts.phase == "Running"
        pod: dict[str, Any] = {
            "tenantId": TENANT_ID,
            "id": _pod_id(facts, index),
            "name": facts.pod_name(index),
            "workloadId": facts.id,
            "clusterId": facts.cluster_id,
            "projectId": facts.project_id,
            "projectName": project.name if project else facts.project_id,
            "workloadName": facts.name,
            "priorityClassName": facts.priority_class,
            "nodeName": placed.node if placed else None,
            "currentNodePool": placed.pool if placed else None,
            "requestedNodePools": list(facts.node_pools) or list(topology.node_pools[:1]),
            "createdAt": isoformat(facts.created_at),
            "updatedAt": started,
            "k8sPhase": "Running"
            if running
            else ("Terminating" if facts.phase == "Terminating" else "Pending"),
            "k8sPhaseUpdatedAt": started,
            "completedAt": None,
            "deletedAt": None,
            "containers": [
                {"name": facts.name, "image": facts.image or "", "startedAt": started if running else None}
            ],
            "requestedResources": requested(version, facts.pod_request(index), 1, one_pod=True),
            "allocatedResources": pod_allocated(version, facts.pod_request(index), placed),
        }
        out.append(pod)
    return out


# Every field the pods list can be filtered or sorted by in some version; the version's row says which.
_POD_KINDS = {
    "clusterId": Kind.TEXT,
    "workloadId": Kind.TEXT,
    "revisionId": Kind.TEXT,
    "nodeName": Kind.TEXT,
    "currentNodepool": Kind.TEXT,
    "createdAt": Kind.DATE,
    "completedAt": Kind.DATE,
    "deletedAt": Kind.DATE,
}


def pod_fields(version: ApiVersion) -> Fields:
    chosen = {name: kind for name, kind in _POD_KINDS.items() if name in version.pod_fields}
    # The document's field is `currentNodepool`; the pod shows `currentNodePool`. No revisions are kept.
    return fields(chosen, currentNodepool=lambda pod: pod.get("currentNodePool"), revisionId=lambda pod: None)

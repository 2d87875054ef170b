"""A workload's pods as the workloads API shows them: each pod the Job controller keeps (pending,
starting, running, and the finished ones with their exit status, kept until the workload goes), named
and sized by the kind's roles (a distributed training's master and workers); for kinds whose pods no Job
controller keeps (inferences, loads), the scheduler's pods, placed ones on their nodes and the rest
pending. Also the fields by which `GET /workloads/pods` filters and sorts the pods of every workload."""

from __future__ import annotations

import uuid
from typing import Any

from mockserver.cluster.clock import isoformat
from mockserver.cluster.pods import Pod, PodPhase
from mockserver.cluster.resources import PodRequest
from mockserver.cluster.scheduler import PlacedPod
from mockserver.cluster.topology import Topology
from mockserver.versions import ApiVersion
from mockserver.views.facts import IDS, WorkloadFacts
from mockserver.views.filtering import Fields, Kind, fields
from mockserver.views.organization import TENANT_ID
from mockserver.views.resources import pod_allocated, requested

# The phases in which a workload has active pods (a rollout's new pods wait in Updating; a Degraded
# workload's lost pods are being replaced): the workloads `GET /workloads/pods` reads.
PHASES_WITH_PODS = frozenset({"Pending", "Initializing", "Running", "Updating", "Degraded", "Terminating"})
# Workload phases whose pods are being terminated: their active pods show Terminating.
_TERMINATING = frozenset({"Terminating", "Stopping", "Deleting"})
# Kubernetes' pod phase for each of ours (a starting pod is Pending to Kubernetes).
_K8S_PHASE = {
    PodPhase.PENDING: "Pending",
    PodPhase.STARTING: "Pending",
    PodPhase.RUNNING: "Running",
    PodPhase.SUCCEEDED: "Succeeded",
    PodPhase.FAILED: "Failed",
}


def _base(
    version: ApiVersion,
    topology: Topology,
    facts: WorkloadFacts,
    placed: PlacedPod | None,
    request: PodRequest,
) -> dict[str, Any]:
    project = topology.project(facts.project_id)
    return {
        "tenantId": TENANT_ID,
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
        "deletedAt": None,
        "requestedResources": requested(version, [request], one_pod=True),
    }


def pods(version: ApiVersion, topology: Topology, facts: WorkloadFacts) -> list[dict[str, Any]]:
    """The pods Kubernetes would show."""
    if facts.pod_records:
        return [_job_pod(version, topology, facts, pod) for pod in facts.pod_records]
    if facts.phase not in PHASES_WITH_PODS:
        return []
    started = isoformat(facts.phase_since)
    out = []
    # Running pods by their index: an elastic gang's evicted worker leaves a gap among them.
    by_index = {placed.index: placed for placed in facts.placement}
    for index in range(facts.pods):
        placed = by_index.get(index)
        running = placed is not None and facts.phase == "Running"
        request = facts.pod_request(index)
        pod = _base(version, topology, facts, placed, request)
        pod |= {
            "id": str(uuid.uuid5(IDS, f"pod/{facts.id}/{index}/{facts.restarts}")),
            "name": facts.pod_name(index),
            "updatedAt": started,
            "k8sPhase": "Running"
            if running
            else ("Terminating" if facts.phase == "Terminating" else "Pending"),
            "k8sPhaseUpdatedAt": started,
            "completedAt": None,
            "containers": [
                {"name": facts.name, "image": facts.image or "", "startedAt": started if running else None}
            ],
            "allocatedResources": pod_allocated(version, request, placed),
        }
        out.append(pod)
    return out


def _job_pod(version: ApiVersion, topology: Topology, facts: WorkloadFacts, record: Pod) -> dict[str, Any]:
    active = record.phase not in (PodPhase.SUCCEEDED, PodPhase.FAILED)
    # A finished pod keeps the node it ran on; only an active one holds devices.
    placed = record.placed
    phase = "Terminating" if active and facts.phase in _TERMINATING else _K8S_PHASE[record.phase]
    since = isoformat(record.since)
    request = facts.pod_request(record.slot)  # slot 0 of a gang is its master, with its own request
    pod = _base(version, topology, facts, placed, request)
    container: dict[str, Any] = {
        "name": facts.name,
        "image": facts.image or "",
        "startedAt": None if record.started_at is None else isoformat(record.started_at),
    }
    pod |= {
        "id": str(uuid.uuid5(IDS, f"pod/{facts.id}/serial/{record.serial}")),
        "name": facts.job_pod_name(record),
        "createdAt": isoformat(record.created_at),
        "updatedAt": since,
        "k8sPhase": phase,
        "k8sPhaseUpdatedAt": since,
        "completedAt": None if record.finished_at is None else isoformat(record.finished_at),
        "containers": [container],
        "allocatedResources": pod_allocated(version, request, placed if active else None),
    }
    return pod


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

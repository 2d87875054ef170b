"""A workload's pods as the workloads API shows them: each pod the Job controller keeps (pending, starting,
running, and the finished ones with their exit status, kept until the workload goes), or, for kinds
without a container, the scheduler's pods."""

from __future__ import annotations

import uuid
from typing import Any

from mockserver.cluster.clock import isoformat
from mockserver.cluster.pods import Pod, PodPhase
from mockserver.cluster.scheduler import PlacedPod
from mockserver.cluster.topology import Topology
from mockserver.versions import ApiVersion
from mockserver.views.facts import IDS, WorkloadFacts
from mockserver.views.organization import TENANT_ID
from mockserver.views.resources import pod_allocated, requested

_PODS = frozenset({"Pending", "Initializing", "Running", "Terminating"})
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


def _pod_id(facts: WorkloadFacts, index: int, restarts: int) -> str:
    return str(uuid.uuid5(IDS, f"pod/{facts.id}/{index}/{restarts}"))


def _base(
    version: ApiVersion, topology: Topology, facts: WorkloadFacts, placed: PlacedPod | None
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
        "requestedResources": requested(version, facts.pod, 1, one_pod=True),
    }


def pods(version: ApiVersion, topology: Topology, facts: WorkloadFacts) -> list[dict[str, Any]]:
    """The pods Kubernetes would show."""
    if facts.pod_records:
        return [_job_pod(version, topology, facts, pod) for pod in facts.pod_records]
    if facts.phase not in _PODS:
        return []
    started = isoformat(facts.phase_since)
    out = []
    for index in range(facts.pods):
        placed = facts.placement[index] if index < len(facts.placement) else None
        running = placed is not None and facts.phase == "Running"
        pod = _base(version, topology, facts, placed)
        pod |= {
            "id": _pod_id(facts, index, facts.restarts),
            "name": f"{facts.name}-0-{index}",
            "updatedAt": started,
            "k8sPhase": "Running"
            if running
            else ("Terminating" if facts.phase == "Terminating" else "Pending"),
            "k8sPhaseUpdatedAt": started,
            "completedAt": None,
            "containers": [
                {"name": facts.name, "image": facts.image or "", "startedAt": started if running else None}
            ],
            "allocatedResources": pod_allocated(version, facts.pod, placed),
        }
        out.append(pod)
    return out


def _job_pod(version: ApiVersion, topology: Topology, facts: WorkloadFacts, record: Pod) -> dict[str, Any]:
    active = record.phase not in (PodPhase.SUCCEEDED, PodPhase.FAILED)
    # A finished pod keeps the node it ran on; only an active one holds devices.
    placed = record.placed
    phase = "Terminating" if active and facts.phase in _TERMINATING else _K8S_PHASE[record.phase]
    since = isoformat(record.since)
    pod = _base(version, topology, facts, placed)
    container: dict[str, Any] = {
        "name": facts.name,
        "image": facts.image or "",
        "startedAt": None if record.started_at is None else isoformat(record.started_at),
    }
    pod |= {
        "id": str(uuid.uuid5(IDS, f"pod/{facts.id}/serial/{record.serial}")),
        "name": f"{facts.name}-0-{record.serial}",
        "createdAt": isoformat(record.created_at),
        "updatedAt": since,
        "k8sPhase": phase,
        "k8sPhaseUpdatedAt": since,
        "completedAt": None if record.finished_at is None else isoformat(record.finished_at),
        "containers": [container],
        "allocatedResources": pod_allocated(version, facts.pod, placed if active else None),
    }
    return pod

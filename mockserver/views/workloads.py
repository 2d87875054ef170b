"""Workloads of every kind as the workloads API shows them, per API version.

Pure functions of `WorkloadFacts` (`facts.py`): the workload's `phase` is its `actualPhase`, its pods are
the scheduler's pods, its `phaseMessage` is the scheduler's pending reason or the last preemption, crash or
stop, in KAI's words. Pods, events and history have their own modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from typing import Any

from mockserver.cluster.clock import isoformat
from mockserver.cluster.kinds.base import RequestedPods
from mockserver.cluster.reasons import ReasonCode
from mockserver.cluster.topology import Topology
from mockserver.cluster.workload import PhaseChange
from mockserver.versions import ApiVersion
from mockserver.views.facts import TERMINAL, WorkloadFacts
from mockserver.views.filtering import Fields, Kind, fields, path
from mockserver.views.organization import TENANT_ID
from mockserver.views.resources import allocated, requested

# Kubernetes' view of the pods, per Run:ai phase (a stopped workload has no pods; Kubernetes has no word).
K8S_PHASE = {
    "Creating": "Pending",
    "Pending": "Pending",
    "Initializing": "Pending",
    "Resuming": "Pending",
    "Running": "Running",
    "Updating": "Pending",  # the new revision's pods wait for placement (cluster/kinds/inference.py)
    "Degraded": "Running",
    "Stopping": "Terminating",
    "Terminating": "Terminating",
    "Deleting": "Terminating",
    "Stopped": "Suspended",
    "Completed": "Succeeded",
    "Failed": "Failed",
    "Unknown": "Unknown",  # a disconnected cluster: the control plane cannot tell
}
# The scheduler's reasons that the API names with a `phaseReason` (latest document's enum); when reasons
# of several node pools are joined, the first of these that any of them gives.
PHASE_REASONS = {
    ReasonCode.OVER_LIMIT: "OverLimit",
    ReasonCode.NON_PREEMPTIBLE_OVER_QUOTA: "NonPreemptibleOverQuota",
}
# Codes of a step that took a workload's pods away, and the DisruptionTarget reason Kubernetes gives each.
_DISRUPTIONS = {
    ReasonCode.PREEMPTED: "PreemptionByScheduler",
    ReasonCode.RECLAIMED: "PreemptionByScheduler",
    ReasonCode.NODE_NOT_READY: "DeletionByTaintManager",
}
_PREEMPTIONS = frozenset(_DISRUPTIONS)


def namespace(topology: Topology, project_id: str) -> str:
    project = topology.project(project_id)
    return f"runai-{project.name if project else project_id}"


def phase_reason(facts: WorkloadFacts) -> str | None:
    if facts.phase != "Pending" or not facts.pending_reason:
        return None
    return next((word for code, word in PHASE_REASONS.items() if code in facts.pending_codes), None)


def phase_message(facts: WorkloadFacts) -> str | None:
    """Why the workload is where it is: the scheduler's pending reason first, else the last event worth telling."""
    if facts.phase == "Pending" and facts.pending_reason:
        return facts.pending_reason
    return facts.phase_message  # None after a plain timed step: the engine keeps no message for it


def conditions(facts: WorkloadFacts) -> list[dict[str, Any]]:
    since = isoformat(facts.phase_since)
    message = phase_message(facts)
    current: dict[str, Any] = {"type": facts.phase, "status": "True", "lastTransitionTime": since}
    if message:
        current["message"] = message
    found = [current]
    if facts.phase == "Pending" and facts.pending_reason:
        found.append(
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": phase_reason(facts) or "Unschedulable",
                "message": facts.pending_reason,
                "lastTransitionTime": since,
            }
        )
    preemption = _last_preemption(facts)
    if preemption is not None and facts.phase in ("Terminating", "Pending", "Failed"):
        found.append(
            {
                "type": "DisruptionTarget",
                "status": "True",
                "reason": next(_DISRUPTIONS[c] for c in preemption.codes if c in _DISRUPTIONS),
                "message": preemption.reason,
                "lastTransitionTime": isoformat(preemption.time),
            }
        )
    return found


def _last_preemption(facts: WorkloadFacts) -> PhaseChange | None:
    for step in reversed(facts.history):
        if _PREEMPTIONS.intersection(step.codes):
            return step
        if step.phase in ("Initializing", "Running"):
            return None
    return None


def _seconds_in(facts: WorkloadFacts, phase: str, now: float) -> int:
    total, steps = 0.0, list(facts.history)
    for i, step in enumerate(steps):
        if step.phase == phase:
            end = steps[i + 1].time if i + 1 < len(steps) else now
            total += max(0.0, end - step.time)
    return int(total)


def _completed_at(facts: WorkloadFacts) -> float | None:
    if facts.phase in TERMINAL:
        return facts.phase_since
    return None


def _actions(version: ApiVersion, facts: WorkloadFacts) -> frozenset[str]:
    """What a client may do to this workload: its kind's actions that exist at this version."""
    return facts.actions & version.actions.get(facts.kind, frozenset())


# `requestedPods` is flat: its fields read one by one (dataclasses.asdict copies deeply, for every row).
_REQUESTED_PODS = tuple(f.name for f in dataclass_fields(RequestedPods))


@dataclass(frozen=True)
class Organisation:
    """All a workload's row reads of the organisation: the names of its project and department, its
    namespace, and the node pools a workload that asks for none is given. A row is made of these, the
    version, the facts and (where the version shows time spent in phases) the time: nothing else, so
    that a row made of equal parts is the same row (handlers/rendered_rows.py keeps rows on that)."""

    project_name: str
    department_name: str
    namespace: str
    default_pools: tuple[str, ...]

    @classmethod
    def of(cls, topology: Topology, project_id: str, department_id: str) -> Organisation:
        project = topology.project(project_id)
        department = topology.departments.get(department_id)
        return cls(
            project.name if project else project_id,
            department.name if department else department_id,
            namespace(topology, project_id),
            tuple(topology.node_pools[:1]),
        )


def shows_time(version: ApiVersion) -> bool:
    """Whether a version's row counts seconds spent in phases up to now (so a row changes with time)."""
    return version.workload_details


def workload(
    version: ApiVersion, topology: Topology, facts: WorkloadFacts, now: float, *, detailed: bool = False
) -> dict[str, Any]:
    org = Organisation.of(topology, facts.project_id, facts.department_id)
    return row(version, org, facts, now, detailed=detailed)


def row(
    version: ApiVersion, org: Organisation, facts: WorkloadFacts, now: float, *, detailed: bool = False
) -> dict[str, Any]:
    """The workload as the workloads API shows it; `now` is read only where `shows_time(version)`."""
    pools_in_use = sorted({p.pool for p in facts.placement})
    asked = requested(version, [facts.pod_request(i) for i in range(facts.pods)])
    completed = _completed_at(facts)
    answer: dict[str, Any] = {
        "tenantId": TENANT_ID,
        "type": facts.type,
        "name": facts.name,
        "id": facts.id,
        "source": "Control-plane",
        "priorityClassName": facts.priority_class,
        "submittedBy": facts.submitted_by,
        "clusterId": facts.cluster_id,
        "projectName": org.project_name,
        "projectId": facts.project_id,
        "departmentName": org.department_name,
        "departmentId": facts.department_id,
        "namespace": org.namespace,
        "createdAt": isoformat(facts.created_at),
        "updatedAt": isoformat(max(facts.phase_since, facts.created_at)),
        "deletedAt": None if facts.deleted_at is None else isoformat(facts.deleted_at),
        "phase": facts.phase,
        "phaseUpdatedAt": isoformat(facts.phase_since),
        "k8sPhase": K8S_PHASE.get(facts.phase, "Unknown"),
        "k8sPhaseUpdatedAt": isoformat(facts.phase_since),
        "conditions": conditions(facts),
        "runningPods": facts.running_pods,
        "requestedPods": {name: getattr(facts.requested_pods, name) for name in _REQUESTED_PODS},
        "requestedNodePools": list(facts.node_pools) or list(org.default_pools),
        "currentNodePools": pools_in_use,
        "workloadRequestedResources": asked,
        # One pod's request: the replicated pods' (a distributed training's workers', not its master's).
        "podsRequestedResources": requested(version, [facts.pod]),
        "allocatedResources": allocated(version, facts),
        "actionsSupport": {action: action in _actions(version, facts) for action in ("delete", "suspend")},
        "completedAt": None if completed is None else isoformat(completed),
        "images": [facts.image] if facts.image else [],
        "preemptible": facts.preemptible,
    }
    if facts.distributed_framework is not None:
        answer["distributedFramework"] = facts.distributed_framework
    message = phase_message(facts)
    if message:
        answer["phaseMessage"] = message
    if not shows_time(version):
        return answer
    answer.update(
        {
            "priority": facts.priority,
            "category": facts.category,
            "phaseReason": phase_reason(facts),
            "idleAllocatedGpus": None,
            "totalPendingTimeSeconds": _seconds_in(facts, "Pending", now),
            "totalRunningTimeSeconds": _seconds_in(facts, "Running", now),
            "guaranteedRuntimeEndsAt": None,
        }
    )
    if facts.command:
        answer["command"] = facts.command
    if facts.args:
        answer["arguments"] = facts.args
    if detailed:
        reason = phase_reason(facts)
        answer["pendingSchedulingMessages"] = (
            [
                {
                    "nodePool": (list(facts.node_pools) or list(org.default_pools))[0],
                    "phaseReason": reason,
                    "reason": facts.pending_reason,
                    "orgType": "PROJECT",
                }
            ]
            if reason
            else None
        )
    return answer


def _nodepool(item: Mapping[str, Any]) -> Any:
    pools = item.get("currentNodePools") or item.get("requestedNodePools") or []
    return pools[0] if pools else None


# Every field a workload list can be filtered or sorted by in some version; a version's row says which.
_WORKLOAD_KINDS = {
    "type": Kind.TEXT,
    "name": Kind.TEXT,
    "clusterId": Kind.TEXT,
    "projectId": Kind.TEXT,
    "projectName": Kind.TEXT,
    "departmentId": Kind.TEXT,
    "departmentName": Kind.TEXT,
    "createdAt": Kind.DATE,
    "deletedAt": Kind.DATE,
    "submittedBy": Kind.TEXT,
    "phase": Kind.TEXT,
    "completedAt": Kind.DATE,
    "nodepool": Kind.TEXT,
    "allocatedGPU": Kind.NUMBER,
    "distributedFramework": Kind.TEXT,
    "idleGpus": Kind.NUMBER,
    "idleAllocatedGpus": Kind.NUMBER,
    "phaseUpdatedAt": Kind.DATE,
    "category": Kind.TEXT,
    "totalPendingTimeSeconds": Kind.NUMBER,
    "totalRunningTimeSeconds": Kind.NUMBER,
    "priority": Kind.NUMBER,
    "priorityClassName": Kind.TEXT,
    "guaranteedRuntimeEndsAt": Kind.DATE,
    "aiApplicationId": Kind.TEXT,
    "aiApplicationName": Kind.TEXT,
}
_READERS = {"nodepool": _nodepool, "allocatedGPU": path("allocatedResources", "gpu")}


def workload_fields(version: ApiVersion) -> Fields:
    chosen = {name: kind for name, kind in _WORKLOAD_KINDS.items() if name in version.workload_fields}
    return fields(chosen, **_READERS)

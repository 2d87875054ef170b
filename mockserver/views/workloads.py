"""Trainings and control-API load as the workloads API shows them, per API version.

Pure functions: a `WorkloadFacts` is read off a `Training` or a `Load` together with the scheduler's
placement of its pods, and rendered to `Workload`, `Pod1`, `Event*` and `HistoryRecord*` JSON. The
workload's `phase` is the training's `actualPhase`, its pods are the scheduler's pods, its
`phaseMessage` is the scheduler's pending reason or the last preemption, crash or stop, in KAI's words.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mockserver.cluster.clock import isoformat
from mockserver.cluster.events import Event, EventKind
from mockserver.cluster.loads import Load
from mockserver.cluster.resources import PodRequest
from mockserver.cluster.scheduler.nodes import mig_gpus
from mockserver.cluster.topology import Topology
from mockserver.cluster.training import Training
from mockserver.versions import ApiVersion
from mockserver.views.filtering import Fields, Kind, fields, path
from mockserver.views.organization import TENANT_ID

# Ids of things the fake does not keep ids for (pods, events) are derived, so they are stable across reads.
_IDS = uuid.UUID("8f1c2a52-56c4-4d8e-9a43-7d0d6f5a9b10")
_PODS = frozenset({"Pending", "Initializing", "Running", "Terminating"})
_PLACED = frozenset({"Initializing", "Running", "Terminating"})
_TERMINAL = frozenset({"Completed", "Failed"})
# Kubernetes' view of the pods, per Run:ai phase (a stopped workload has no pods; Kubernetes has no word).
K8S_PHASE = {
    "Creating": "Pending",
    "Pending": "Pending",
    "Initializing": "Pending",
    "Resuming": "Pending",
    "Running": "Running",
    "Stopping": "Terminating",
    "Terminating": "Terminating",
    "Deleting": "Terminating",
    "Stopped": "Suspended",
    "Completed": "Succeeded",
    "Failed": "Failed",
}
# The scheduler's reasons that the API names with a `phaseReason` (latest document's enum).
PHASE_REASONS = {
    "quota has reached the allowable limit": "OverLimit",
    "Non-preemptible workload is over quota": "NonPreemptibleOverQuota",
}


@dataclass(frozen=True)
class Step:
    """One entry of a workload's phase history."""

    time: float
    phase: str
    reason: str


@dataclass(frozen=True)
class WorkloadFacts:
    """What the workloads API shows of one workload, read off the cluster's own objects."""

    id: str
    name: str
    type: str
    category: str
    project_id: str
    department_id: str
    cluster_id: str
    submitted_by: str
    created_at: float
    phase: str
    phase_since: float
    pod: PodRequest
    pods: int
    priority: int
    priority_class: str
    preemptible: bool
    node_pools: tuple[str, ...]
    placement: Sequence[Mapping[str, Any]]
    phase_message: str | None = None
    pending_reason: str | None = None
    deleted_at: float | None = None
    image: str | None = None
    command: str | None = None
    args: str | None = None
    history: Sequence[Step] = field(default_factory=tuple)
    restarts: int = 0


def of_training(training: Training, placement: Sequence[Mapping[str, Any]] | None) -> WorkloadFacts:
    request = training.request
    return WorkloadFacts(
        id=training.workload_id,
        name=training.name,
        type="Training",
        category="Train",
        project_id=training.project_id,
        department_id=training.department_id,
        cluster_id=training.cluster_id,
        submitted_by=training.created_by,
        created_at=training.created_at,
        phase=str(training.actual_phase),
        phase_since=training.phase_since,
        pod=request.pod,
        pods=request.pods,
        priority=training.priority,
        priority_class=request.priority_class,
        preemptible=training.preemptible,
        node_pools=tuple(request.node_pools),
        placement=list(placement or []),
        phase_message=training.phase_message,
        pending_reason=training.pending_reason,
        deleted_at=training.deleted_at,
        image=request.image,
        command=request.command,
        args=request.args,
        history=tuple(Step(c.time, str(c.phase), c.reason) for c in training.history),
        restarts=training.restarts,
    )


def load_type(load: Load) -> tuple[str, str, str]:
    """(type, category, priority class) of control-API load: what its priority makes it on Run:ai."""
    return load.kind()


def of_load(load: Load, topology: Topology, placement: Sequence[Mapping[str, Any]] | None) -> WorkloadFacts:
    kind, category, priority_class = load_type(load)
    project = topology.project(load.project_id)
    phase = "Running" if load.running else "Pending"
    return WorkloadFacts(
        id=load.workload_id,
        name=load.name,
        type=kind,
        category=category,
        project_id=load.project_id,
        department_id=project.department_id if project else "",
        cluster_id=topology.cluster_id,
        submitted_by="control-api@mock.runai",
        created_at=load.submitted_at,
        phase=phase,
        phase_since=load.submitted_at,
        pod=load.job.pod,
        pods=load.job.pods,
        priority=load.job.priority,
        priority_class=priority_class,
        preemptible=load.job.preemptible,
        node_pools=tuple(load.job.node_pools),
        placement=list(placement or []),
        pending_reason=None if load.running else load.pending_reason,
    )


# ------------------------------------------------------------------------------------ resources
def _pod_gpus(pod: Mapping[str, Any]) -> float:
    """GPUs a placed pod counts for in quotas: device fractions, and a MIG slice by its leading number."""
    total = sum(float(d["fraction"]) for d in pod.get("devices", []))
    if pod.get("migProfile"):
        total += mig_gpus(str(pod["migProfile"]))
    return total


def allocated_gpus(facts: WorkloadFacts) -> float:
    return round(sum(_pod_gpus(p) for p in facts.placement), 6)


def _mib(value: float) -> str:
    return f"{round(value)}Mi"


def _requested(version: ApiVersion, pod: PodRequest, pods: int, *, one_pod: bool = False) -> dict[str, Any]:
    gpu_request_type: str | None = None
    gpu: float | None = None
    gpu_memory: str | None = None
    if pod.mig_profile is not None:
        gpu_request_type = "migProfile"
    elif pod.gpu_fraction is not None:
        gpu_request_type, gpu = "portion", pod.gpu_fraction * pod.gpu_devices * pods
    elif pod.gpu_memory_mib is not None:
        gpu_request_type, gpu_memory = "memory", _mib(pod.gpu_memory_mib * pod.gpu_devices * pods)
    else:
        gpu = float(pod.gpus * pods)
    answer: dict[str, Any] = {
        "gpuRequestType": gpu_request_type,
        "gpu": {"request": gpu, "limit": None},
        "gpuMemory": {"request": gpu_memory, "limit": None},
        "cpu": {"request": pod.cpu_millis * pods / 1000 if pod.cpu_millis else None, "limit": None},
        "cpuMemory": {"request": _mib(pod.memory_mib * pods) if pod.memory_mib else None, "limit": None},
        "extendedResources": [{"resource": n, "quantity": f"{q * pods:g}"} for n, q in pod.extended] or None,
    }
    if version.shows_mig_profiles and one_pod:
        answer["migProfile"] = pod.mig_profile  # a pod asks for one slice (`MigProfile`)
    elif version.shows_mig_profiles:
        answer["migProfile"] = [pod.mig_profile] * pods if pod.mig_profile else []
    elif gpu_request_type == "migProfile":
        # The latest API dropped MIG; a MIG request shows as what it counts for.
        answer["gpuRequestType"], answer["gpu"]["request"] = (
            None,
            float(mig_gpus(pod.mig_profile or "") * pods),
        )
    return answer


def _allocated(version: ApiVersion, facts: WorkloadFacts) -> dict[str, Any]:
    placed = bool(facts.placement)
    pod, pods = facts.pod, len(facts.placement)
    answer: dict[str, Any] = {
        "gpu": allocated_gpus(facts),
        "gpuMemory": _mib(pod.gpu_memory_mib * pod.gpu_devices * pods)
        if placed and pod.gpu_memory_mib
        else None,
        "cpu": pod.cpu_millis * pods / 1000 if placed else 0.0,
        "cpuMemory": _mib(pod.memory_mib * pods) if placed and pod.memory_mib else None,
        "extendedResources": [{"resource": n, "quantity": f"{q * pods:g}"} for n, q in pod.extended]
        if placed and pod.extended
        else None,
    }
    if version.shows_mig_profiles:
        answer["migProfile"] = [p["migProfile"] for p in facts.placement if p.get("migProfile")]
    return answer


# ------------------------------------------------------------------------------------- workload
def namespace(topology: Topology, project_id: str) -> str:
    project = topology.project(project_id)
    return f"runai-{project.name if project else project_id}"


def phase_reason(facts: WorkloadFacts) -> str | None:
    if facts.phase != "Pending" or not facts.pending_reason:
        return None
    return next((code for text, code in PHASE_REASONS.items() if text in facts.pending_reason), None)


def phase_message(facts: WorkloadFacts) -> str | None:
    """Why the workload is where it is: the scheduler's pending reason first, else the last event worth telling."""
    if facts.phase == "Pending" and facts.pending_reason:
        return facts.pending_reason
    if facts.phase_message == f"entered {facts.phase}":
        return None  # the lifecycle's default wording for a timed step says nothing a user can use
    return facts.phase_message


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
                "reason": "PreemptionByScheduler",
                "message": preemption.reason,
                "lastTransitionTime": isoformat(preemption.time),
            }
        )
    return found


def _last_preemption(facts: WorkloadFacts) -> Step | None:
    for step in reversed(facts.history):
        if "preempted" in step.reason.lower():
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
    if facts.phase in _TERMINAL:
        return facts.phase_since
    return None


def workload(
    version: ApiVersion, topology: Topology, facts: WorkloadFacts, now: float, *, detailed: bool = False
) -> dict[str, Any]:
    project = topology.project(facts.project_id)
    department = topology.departments.get(facts.department_id)
    pools_in_use = sorted({str(p["pool"]) for p in facts.placement})
    requested = _requested(version, facts.pod, facts.pods)
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
        "projectName": project.name if project else facts.project_id,
        "projectId": facts.project_id,
        "departmentName": department.name if department else facts.department_id,
        "departmentId": facts.department_id,
        "namespace": namespace(topology, facts.project_id),
        "createdAt": isoformat(facts.created_at),
        "updatedAt": isoformat(max(facts.phase_since, facts.created_at)),
        "deletedAt": None if facts.deleted_at is None else isoformat(facts.deleted_at),
        "phase": facts.phase,
        "phaseUpdatedAt": isoformat(facts.phase_since),
        "k8sPhase": K8S_PHASE.get(facts.phase, "Unknown"),
        "k8sPhaseUpdatedAt": isoformat(facts.phase_since),
        "conditions": conditions(facts),
        "runningPods": len(facts.placement) if facts.phase == "Running" else 0,
        "requestedPods": {"number": facts.pods, "parallelism": facts.pods, "completions": facts.pods},
        "requestedNodePools": list(facts.node_pools) or list(topology.node_pools[:1]),
        "currentNodePools": pools_in_use,
        "workloadRequestedResources": requested,
        "podsRequestedResources": _requested(version, facts.pod, 1),
        "allocatedResources": _allocated(version, facts),
        "actionsSupport": {"delete": facts.type == "Training", "suspend": facts.type == "Training"},
        "completedAt": None if completed is None else isoformat(completed),
        "images": [facts.image] if facts.image else [],
        "preemptible": facts.preemptible,
    }
    message = phase_message(facts)
    if message:
        answer["phaseMessage"] = message
    if not version.workload_details:
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
                    "nodePool": (list(facts.node_pools) or list(topology.node_pools[:1]))[0],
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


# ------------------------------------------------------------------------------------------ pods
def _pod_id(facts: WorkloadFacts, index: int) -> str:
    return str(uuid.uuid5(_IDS, f"pod/{facts.id}/{index}/{facts.restarts}"))


def pods(version: ApiVersion, topology: Topology, facts: WorkloadFacts) -> list[dict[str, Any]]:
    """The pods Kubernetes would show: placed ones on their nodes, the rest of the gang still pending."""
    if facts.phase not in _PODS:
        return []
    project = topology.project(facts.project_id)
    started = isoformat(facts.phase_since)
    out = []
    for index in range(facts.pods):
        placed = facts.placement[index] if index < len(facts.placement) else None
        running = placed is not None and facts.phase == "Running"
        pod: dict[str, Any] = {
            "tenantId": TENANT_ID,
            "id": _pod_id(facts, index),
            "name": f"{facts.name}-0-{index}",
            "workloadId": facts.id,
            "clusterId": facts.cluster_id,
            "projectId": facts.project_id,
            "projectName": project.name if project else facts.project_id,
            "workloadName": facts.name,
            "priorityClassName": facts.priority_class,
            "nodeName": placed["node"] if placed else None,
            "currentNodePool": placed["pool"] if placed else None,
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
            "requestedResources": _requested(version, facts.pod, 1, one_pod=True),
            "allocatedResources": _pod_allocated(version, facts.pod, placed),
        }
        out.append(pod)
    return out


def _pod_allocated(
    version: ApiVersion, request: PodRequest, placed: Mapping[str, Any] | None
) -> dict[str, Any]:
    if placed is None:
        return {"gpu": 0.0, "cpu": 0.0}
    answer: dict[str, Any] = {
        "gpu": round(_pod_gpus(placed), 6),
        "cpu": request.cpu_millis / 1000,
        "gpuMemory": _mib(request.gpu_memory_mib) if request.gpu_memory_mib else None,
        "cpuMemory": _mib(request.memory_mib) if request.memory_mib else None,
    }
    if version.shows_mig_profiles and placed.get("migProfile"):
        answer["migProfile"] = [placed["migProfile"]]
    return answer


# --------------------------------------------------------------------------------- events, history
_REASONS = {
    EventKind.SUBMITTED: ("Normal", "Submitted", "workload-controller"),
    EventKind.PENDING: ("Warning", "Unschedulable", "runai-scheduler"),
    EventKind.DELETED: ("Normal", "Deleted", "workload-controller"),
    EventKind.LOAD_SUBMITTED: ("Normal", "Submitted", "workload-controller"),
    EventKind.LOAD_STARTED: ("Normal", "Scheduled", "runai-scheduler"),
    EventKind.LOAD_EVICTED: ("Warning", "Preempted", "runai-scheduler"),
    EventKind.LOAD_REMOVED: ("Normal", "Deleted", "workload-controller"),
}


def _phase_reason(event: Event) -> tuple[str, str, str]:
    text = event.message.lower()
    if "preempted" in text:
        return "Warning", "Preempted", "runai-scheduler"
    if "scheduled" in text:
        return "Normal", "Scheduled", "runai-scheduler"
    if event.phase == "Failed" or "failed" in text or "crash" in text:
        return "Warning", "BackOff" if event.phase != "Failed" else "Failed", "workload-controller"
    return "Normal", f"{event.phase or 'Phase'}", "workload-controller"


def event(topology: Topology, facts: WorkloadFacts, item: Event) -> dict[str, Any]:
    kind, reason, source = (
        _phase_reason(item)
        if item.kind is EventKind.PHASE
        else _REASONS.get(item.kind, ("Normal", "Info", "mock"))
    )
    message = item.message if item.kind is not EventKind.PHASE else f"{item.phase}: {item.message}"
    return {
        "id": str(uuid.uuid5(_IDS, f"event/{item.seq}")),
        "createdAt": isoformat(item.time),
        "type": kind,
        "reason": reason,
        "source": source,
        "message": message,
        "clusterId": facts.cluster_id,
        "involvedObject": {
            "uid": facts.id,
            "kind": f"{facts.type}Workload",
            "name": facts.name,
            "namespace": namespace(topology, facts.project_id),
        },
    }


def history(topology: Topology, facts: WorkloadFacts, items: Sequence[Event]) -> list[dict[str, Any]]:
    """Phase changes and the other events, merged in time order."""
    records = []
    for item in items:
        if item.kind is EventKind.PHASE and item.phase:
            records.append(
                (
                    item.time,
                    item.seq,
                    {
                        "meta": {"creationTimestamp": isoformat(item.time), "type": "PhaseUpdate"},
                        "spec": {"phaseUpdate": {"phase": str(item.phase), "phaseMessage": item.message}},
                    },
                )
            )
        else:
            records.append(
                (
                    item.time,
                    item.seq,
                    {
                        "meta": {"creationTimestamp": isoformat(item.time), "type": "Event"},
                        "spec": {"event": event(topology, facts, item)},
                    },
                )
            )
    return [record for _, _, record in sorted(records, key=lambda r: (r[0], r[1]))]

"""What the workloads API shows of one workload, read off the cluster's own record: a `WorkloadFacts` is
taken from any `Workload` (its kind says its type and category) with the scheduler's placement of its pods.
The views of workloads, pods, events and history render these facts."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mockserver.cluster.kinds.base import RequestedPods
from mockserver.cluster.pods import Pod, PodPhase
from mockserver.cluster.reasons import Reason, ReasonCode
from mockserver.cluster.resources import PodRequest
from mockserver.cluster.scheduler import PlacedPod
from mockserver.cluster.workload import PhaseChange, Workload

if TYPE_CHECKING:
    from mockserver.cluster.kinds import WorkloadKind

# Ids of things the fake does not keep ids for (pods, events) are derived, so they are stable across reads.
IDS = uuid.UUID("8f1c2a52-56c4-4d8e-9a43-7d0d6f5a9b10")
TERMINAL = frozenset({"Completed", "Failed"})


@dataclass(frozen=True)
class WorkloadFacts:
    """What the workloads API shows of one workload, read off the cluster's own objects."""

    id: str
    name: str
    # The kind's domain name (versions list their actions by it), its `type` and `category` in the API.
    kind: str
    type: str
    category: str
    actions: frozenset[str]
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
    # Where its running pods are, as the scheduler placed them (typed until a view renders them).
    placement: Sequence[PlacedPod]
    phase_message: str | None = None
    pending_reason: str | None = None
    # What the pending reason says, as codes (`cluster/reasons.py`): views name it without reading it.
    pending_codes: tuple[ReasonCode, ...] = ()
    deleted_at: float | None = None
    image: str | None = None
    command: str | None = None
    args: str | None = None
    # The cluster's own records (frozen): taken as they are.
    history: Sequence[PhaseChange] = field(default_factory=tuple)
    restarts: int = 0
    # The kind's description and the replicas asked for: pod names and roles (a distributed training's
    # `<name>-master-0`, `<name>-worker-<n>`); the framework a distributed training names.
    description: WorkloadKind | None = None
    replicas: int = 1
    distributed_framework: str | None = None
    # Pod 0's request when it differs from the others' (a distributed training's master spec).
    lead_pod: PodRequest | None = None
    # The Job's pods one by one (copies: the views render them after the cluster's lock is let go); empty
    # for kinds whose pods no Job controller keeps.
    pod_records: Sequence[Pod] = field(default_factory=tuple)
    # The pods asked for, as the kind counts them (`requestedPods`).
    requested_pods: RequestedPods = field(default_factory=lambda: RequestedPods(1))

    def pod_request(self, index: int) -> PodRequest:
        return self.lead_pod if index == 0 and self.lead_pod is not None else self.pod

    def pod_name(self, index: int) -> str:
        if self.description is None:
            return f"{self.name}-0-{index}"
        return self.description.pod_name(self.name, index, self.replicas)

    def job_pod_name(self, pod: Pod) -> str:
        if self.description is None:
            return f"{self.name}-0-{pod.serial}"
        return self.description.job_pod_name(self.name, pod.slot, pod.serial, self.replicas)

    @property
    def running_pods(self) -> int:
        if self.pod_records:
            return sum(1 for p in self.pod_records if p.phase is PodPhase.RUNNING)
        return len(self.placement) if self.phase == "Running" else 0


def of_workload(workload: Workload, placement: Sequence[PlacedPod] = ()) -> WorkloadFacts:
    request, kind = workload.request, workload.kind
    return WorkloadFacts(
        id=workload.workload_id,
        name=workload.name,
        kind=kind.name,
        type=kind.type_name,
        category=kind.category,
        actions=kind.action_names,
        project_id=workload.project_id,
        department_id=workload.department_id,
        cluster_id=workload.cluster_id,
        submitted_by=workload.created_by,
        created_at=workload.created_at,
        phase=str(workload.actual_phase),
        phase_since=workload.phase_since,
        pod=request.pod,
        pods=kind.pods(request.pods),
        priority=workload.priority,
        priority_class=request.priority_class,
        preemptible=workload.preemptible,
        node_pools=tuple(request.node_pools),
        placement=tuple(placement),
        phase_message=workload.phase_message,
        pending_reason=workload.pending_reason,
        pending_codes=Reason.codes_of(workload.pending_reason),
        deleted_at=workload.deleted_at,
        image=request.image,
        command=request.command,
        args=request.args,
        history=tuple(workload.history),
        restarts=workload.restarts,
        description=kind,
        replicas=request.pods,
        distributed_framework=_framework(workload),
        lead_pod=request.lead_pod,
        pod_records=tuple(copy.copy(p) for p in workload.job.pods),
        requested_pods=kind.requested_pods(
            request.pods,
            minimum=request.min_replicas,
            maximum=request.max_replicas,
            completions=request.completions,
        ),
    )


def _framework(workload: Workload) -> str | None:
    if not workload.kind.gang:
        return None
    spec = workload.request.spec_document or {}
    framework = spec.get("distributedFramework")
    return framework if isinstance(framework, str) else "PyTorch"  # Run:ai's default

"""The scheduler's mutable state: node capacity, queue accounting, where each pod sits, and the pending
pods grouped by shape.

Every change of placement goes through `bind` and `unbind`, which keep nodes, pool indexes and queues in
step, and are exact inverses: a tentative eviction or placement (a KAI "statement") is undone by the
opposite call.

A *shape* groups pending pods that are interchangeable for the scheduler: same project, priority,
preemptibility, request and node constraints. Whatever stops one of them (quota, fit, no victims) stops
the rest in the same action, so an action tries a shape's pods in order until one fails and then passes
the whole shape over. That keeps a cycle's work proportional to shapes and placements, not to the queue.
The pods of a gang are interchangeable only with the pods of an identical gang (same project, requests,
size and minimum): their shape key carries the gang's geometry, and a gang with a lead pod (a master)
has two shapes, the lead's and the others'.
"""

from __future__ import annotations

from bisect import insort
from contextlib import suppress
from dataclasses import dataclass, field

from mockserver.cluster.resources import PodRequest
from mockserver.cluster.scheduler.jobs import Job
from mockserver.cluster.scheduler.nodes import (
    UNIT,
    NodeState,
    PodPlacement,
    fraction_units,
    memory_units,
    mig_gpus,
)
from mockserver.cluster.scheduler.placement import PoolIndex
from mockserver.cluster.scheduler.queues import QueueState
from mockserver.cluster.scheduler.vector import ZERO, ResourceVector, vector
from mockserver.cluster.topology import Topology

# A gang's geometry (minimum, pods, lead's and others' requests) and whether the shape is its lead's.
GangKey = tuple[int, int, PodRequest | None, PodRequest, bool]
# What makes pending pods interchangeable (see the module docstring).
ShapeKey = tuple[str, int, bool, PodRequest, str | None, tuple[str, ...], GangKey | None]
# Higher priority first, then older, then id, then pod index.
JobKey = tuple[int, int, str, int]
# Placement constraints compared by size in signatures.py.
Signature = tuple[object, ...]
Size = tuple[float, ...]


@dataclass(eq=False)
class Shape:
    key: ShapeKey
    project_id: str
    priority: int
    preemptible: bool
    # Node pools to try, in order of preference.
    candidates: list[str]
    # Per candidate pool: the quota one pod asks for there while pending.
    requests: dict[str, ResourceVector]
    # Shapes whose placement constraints are alike are compared by size (see signatures.py): `signature`
    # across a node pool, `queue_signature` inside the shape's queue. Preemptibility is in the latter, as
    # only non-preemptible pods are held to the deserved quota.
    signature: Signature
    queue_signature: Signature
    size: Size
    # Pending pods in the order they are served (job order, then pod index). Pods placed during a cycle
    # stay listed until the cycle ends (`compact`); readers pass over them.
    members: list[PodRecord] = field(default_factory=list)
    # Per pool (or "" for the whole job): why the shape's pods wait.
    reasons: dict[str, str] = field(default_factory=dict)
    # The reason last reported for the shape's jobs (CycleResult.pending lists changes only).
    reported: str | None = None

    def compact(self) -> None:
        self.members = [m for m in self.members if m.pods is None]


@dataclass(eq=False)
class PodRecord:
    """One pod of a job, pending in its shape or placed on a node."""

    job: Job
    index: int
    shape: Shape
    pool: str | None = None
    # One placement while placed (a list so that bind/unbind stay generic), None while pending.
    pods: list[PodPlacement] | None = None
    charge: ResourceVector = ZERO
    # Every pod of the job, when the job is a gang (one list shared by its pods): placed together.
    gang: list[PodRecord] | None = None
    # Placed on resources its victims still release (KAI's Pipelined status): it holds them, but is bound
    # only once the victims are gone (`Scheduler.unpipeline`). Not a victim itself meanwhile.
    pipelined: bool = False
    # What this pod asks for (the job's lead request for pod 0 of a job with one).
    pod: PodRequest = field(init=False)
    # "<job id>#<pod index>": the pod's key in queues and on devices.
    id: str = field(init=False)
    # Serving order among all pods (ordering.job_key), taken once: the queue order reads it per pod.
    key: JobKey = field(init=False)

    def __post_init__(self) -> None:
        job = self.job
        self.id = f"{job.id}#{self.index}"
        self.pod = job.pod_at(self.index)
        self.key = (-job.priority, job.seq, job.id, self.index)

    @property
    def order(self) -> tuple[int, str, int]:
        """Serving order inside a shape (priority is the shape's): older job first, then pod index."""
        return (self.job.seq, self.job.id, self.index)


class ClusterState:
    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.nodes = [NodeState(node, i) for i, node in enumerate(topology.nodes)]
        self.pools = {
            pool: PoolIndex(pool, [n for n in self.nodes if n.node.pool == pool], topology.placement_of(pool))
            for pool in topology.node_pools
        }
        self.departments: dict[tuple[str, str], QueueState] = {}
        self.projects: dict[tuple[str, str], QueueState] = {}
        for pool in topology.node_pools:
            for creation, dept in enumerate(topology.departments.values()):
                self.departments[dept.id, pool] = QueueState(
                    "department", dept.name, pool, dept.quotas[pool], dept.over_quota_priority, creation, None
                )
            for creation, project in enumerate(topology.projects.values()):
                self.projects[project.id, pool] = QueueState(
                    "project",
                    project.name,
                    pool,
                    project.quotas[pool],
                    project.over_quota_priority,
                    creation,
                    self.departments[project.department_id, pool],
                )
        # Smallest device memory per pool: a pending GPU-memory request is charged against it (KAI's
        # minNodeGPUMemory), the most it can cost once placed.
        self._min_gpu_memory = {
            pool: min(
                (n.node.gpu_memory_mib for n in index.nodes if n.node.gpus and not n.node.is_mig), default=0
            )
            for pool, index in self.pools.items()
        }
        self.totals = {pool: pool_total(index) for pool, index in self.pools.items()}
        self.shapes: dict[ShapeKey, Shape] = {}

    def queue(self, record: PodRecord, pool: str) -> QueueState:
        return self.projects[record.job.project_id, pool]

    # -- pending pods --------------------------------------------------------------------------------

    def shape_of(self, job: Job, index: int = 0) -> Shape:
        """The shape of the job's pod `index` (all pods of a job share it unless the job has a lead)."""
        pod = job.pod_at(index)
        gang: GangKey | None = None
        if job.min_pods:
            gang = (job.min_pods, job.pods, job.lead, job.pod, index == 0 and job.lead is not None)
        key: ShapeKey = (
            job.project_id,
            job.priority,
            job.preemptible,
            pod,
            job.node_type,
            tuple(job.node_pools),
            gang,
        )
        shape = self.shapes.get(key)
        if shape is None:
            project = self.topology.project(job.project_id)
            candidates: list[str] = []
            if project is not None:
                wanted = job.node_pools or project.default_node_pools or self.topology.node_pools
                candidates = [p for i, p in enumerate(wanted) if p in self.pools and p not in wanted[:i]]
            signature = _signature(job, pod)
            if gang is not None:  # a gang's failure says nothing of single pods, nor theirs of it
                signature = ("gang", gang, *signature)
            shape = Shape(
                key=key,
                project_id=job.project_id,
                priority=job.priority,
                preemptible=job.preemptible,
                candidates=candidates,
                requests={pool: self._pending_request(pod, pool) for pool in candidates},
                signature=signature,
                queue_signature=(job.project_id, job.preemptible, *signature),
                size=_size(pod),
            )
            if project is None:
                shape.reasons[""] = f"Project {job.project_id} does not exist in this cluster"
            elif not candidates:
                shape.reasons[""] = (
                    f"None of the node pools {', '.join(job.node_pools)} exists in this cluster"
                )
            self.shapes[key] = shape
        return shape

    def wait(self, record: PodRecord) -> None:
        """Put a pod among its shape's pending pods, in serving order."""
        members = record.shape.members
        if not members or members[-1].order < record.order:
            members.append(record)
        else:
            insort(members, record, key=lambda r: r.order)

    def forget(self, records: list[PodRecord]) -> None:
        """Drop the pending pods of a job that leaves the scheduler. Pods unbound just now (evicted) are
        not among the pending ones; nothing to drop for them."""
        waiting = [r for r in records if r.pods is None]
        if len(waiting) == 1:
            with suppress(ValueError):
                waiting[0].shape.members.remove(waiting[0])  # one pass in C: cheap even deep in a queue
        elif waiting:
            gone = {id(r) for r in waiting}
            for shape in {id(r.shape): r.shape for r in waiting}.values():  # a gang's lead has its own
                shape.members = [m for m in shape.members if id(m) not in gone]

    def _pending_request(self, pod: PodRequest, pool: str) -> ResourceVector:
        if pod.mig_profile is not None:
            gpu = float(mig_gpus(pod.mig_profile))
        elif pod.gpu_fraction is not None and pod.gpu_devices:
            gpu = fraction_units(pod.gpu_fraction) * pod.gpu_devices / UNIT
        elif pod.gpu_memory_mib is not None and pod.gpu_devices:
            units = memory_units(pod.gpu_memory_mib, self._min_gpu_memory[pool])
            gpu = min(units, UNIT) * pod.gpu_devices / UNIT
        else:
            gpu = float(pod.gpus)
        return ResourceVector(gpu, float(pod.cpu_millis), float(pod.memory_mib))

    # -- bind / unbind -------------------------------------------------------------------------------

    def try_place(self, record: PodRecord, pool: str) -> list[PodPlacement] | None:
        """Find and hold room for the pod in `pool` (not yet charged to its queues), or None."""
        index = self.pools[pool]
        placement = index.find(record.pod, record.job.node_type)
        if placement is None:
            return None
        placement.node.bind(placement, record.id)
        index.update(placement.node)  # the node is in `pool`: _bind_pod without the look-up
        return [placement]

    def no_fit_reason(self, record: PodRecord, pool: str) -> str:
        return self.pools[pool].no_fit_reason(record.pod, record.job.node_type)

    def commit(self, record: PodRecord, pool: str, pods: list[PodPlacement]) -> None:
        """Account a placement made by `try_place` to the pod's queues."""
        record.pool = pool
        record.pods = pods
        if len(pods) == 1:  # the usual case, kept cheap: a cycle commits every pod it places
            only = pods[0]
            record.charge = vector(only.gpu_charge, float(only.cpu), float(only.memory))
        else:
            record.charge = ResourceVector(
                sum(p.gpu_charge for p in pods),
                float(sum(p.cpu for p in pods)),
                float(sum(p.memory for p in pods)),
            )
        queue = self.projects[record.job.project_id, pool]
        queue.charge(record.charge, record.job.preemptible, +1)
        queue.running[record.id] = record

    def bind(self, record: PodRecord, pool: str, pods: list[PodPlacement]) -> None:
        for placement in pods:
            self._bind_pod(placement, record.id)
        self.commit(record, pool, pods)

    def bind_if_room(self, record: PodRecord, pool: str, pods: list[PodPlacement]) -> bool:
        """Put an unbound pod back exactly where it was, if all of that is still free."""
        bound: list[PodPlacement] = []
        for placement in pods:
            if not placement.node.has_room_for(placement):
                self.release_pods(record, bound)
                return False
            self._bind_pod(placement, record.id)
            bound.append(placement)
        self.commit(record, pool, pods)
        return True

    def unbind(self, record: PodRecord) -> tuple[str, list[PodPlacement]]:
        """Free a placed pod; returns what `bind` needs to put it back exactly."""
        pool, pods = record.pool, record.pods
        assert pool is not None and pods is not None
        queue = self.queue(record, pool)
        queue.charge(record.charge, record.job.preemptible, -1)
        del queue.running[record.id]
        for placement in reversed(pods):
            self._unbind_pod(placement, record.id)
        record.pool, record.pods, record.charge = None, None, ZERO
        return pool, pods

    def release_pods(self, record: PodRecord, pods: list[PodPlacement]) -> None:
        """Undo a `try_place` that is not committed."""
        for placement in reversed(pods):
            self._unbind_pod(placement, record.id)

    def _bind_pod(self, placement: PodPlacement, holder: str) -> None:
        placement.node.bind(placement, holder)
        self.pools[placement.node.node.pool].update(placement.node)

    def _unbind_pod(self, placement: PodPlacement, holder: str) -> None:
        placement.node.unbind(placement, holder)
        self.pools[placement.node.node.pool].update(placement.node)


def pool_total(index: PoolIndex) -> ResourceVector:
    """What a pool offers, in the units pods are charged in: a MIG node counts its slices by their leading
    g (KAI's GetTotalGPURequest), not its physical GPUs, so fair shares add up to what can be charged."""
    gpus = 0.0
    for state in index.nodes:
        node = state.node
        if node.is_mig:
            gpus += sum(mig_gpus(profile) * count for profile, count in node.mig_profiles.items())
        else:
            gpus += node.gpus
    cpu = float(sum(n.node.cpu_millis for n in index.nodes))
    memory = float(sum(n.node.memory_mib for n in index.nodes))
    return ResourceVector(gpus, cpu, memory)


def _signature(job: Job, pod: PodRequest) -> Signature:
    if pod.mig_profile is not None:
        kind = "mig"
    elif pod.gpu_fraction is not None and pod.gpu_devices:
        kind = "fraction"
    elif pod.gpu_memory_mib is not None and pod.gpu_devices:
        kind = "memory"
    else:
        kind = "whole"
    return (kind, pod.mig_profile, job.node_type, tuple(name for name, _ in pod.extended))


def _size(pod: PodRequest) -> Size:
    share = pod.gpu_fraction if pod.gpu_fraction is not None else pod.gpu_memory_mib
    return (
        float(pod.gpus),
        float(share or 0.0),
        float(pod.gpu_devices),
        float(pod.cpu_millis),
        pod.memory_mib,
        *(amount for _, amount in pod.extended),
    )

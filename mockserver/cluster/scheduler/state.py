"""The scheduler's mutable state: node capacity, queue accounting and where each job sits.

Every change goes through `bind` and `unbind`, which keep nodes, pool indexes and queues in step, and are
exact inverses: a tentative eviction or placement (a KAI "statement") is undone by the opposite call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mockserver.cluster.resources import PodRequest
from mockserver.cluster.scheduler import messages
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
from mockserver.cluster.scheduler.queues import ZERO, QueueState, Vector
from mockserver.cluster.topology import Topology


@dataclass(eq=False)
class JobRecord:
    job: Job
    # Node pools to try, in order of preference.
    candidates: list[str]
    # Per candidate pool: the quota the job asks for there while pending.
    requests: dict[str, Vector]
    # Jobs whose placement constraints are alike are compared by size (see signatures.py): `signature`
    # across a node pool, `queue_signature` inside the job's queue. Preemptibility is in the latter, as
    # only non-preemptible jobs are held to the deserved quota.
    signature: tuple
    queue_signature: tuple
    size: tuple[float, ...]
    pool: str | None = None
    pods: list[PodPlacement] | None = None
    charge: Vector = ZERO
    reasons: dict[str, str] = field(default_factory=dict)


class ClusterState:
    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.nodes = [NodeState(node, i) for i, node in enumerate(topology.nodes)]
        self.pools = {
            pool: PoolIndex(pool, [n for n in self.nodes if n.node.pool == pool])
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

    def queue(self, record: JobRecord, pool: str) -> QueueState:
        return self.projects[record.job.project_id, pool]

    # -- requests ------------------------------------------------------------------------------------

    def record(self, job: Job) -> JobRecord:
        project = self.topology.project(job.project_id)
        candidates: list[str] = []
        if project is not None:
            wanted = job.node_pools or project.default_node_pools or self.topology.node_pools
            candidates = [p for i, p in enumerate(wanted) if p in self.pools and p not in wanted[:i]]
        signature = _signature(job)
        record = JobRecord(
            job=job,
            candidates=candidates,
            requests={pool: self._pending_request(job, pool) for pool in candidates},
            signature=signature,
            queue_signature=(job.project_id, job.preemptible, *signature),
            size=_size(job),
        )
        if project is None:
            record.reasons[""] = f"Project {job.project_id} does not exist in this cluster"
        elif not candidates:
            record.reasons[""] = f"None of the node pools {', '.join(job.node_pools)} exists in this cluster"
        return record

    def _pending_request(self, job: Job, pool: str) -> Vector:
        pod = job.pod
        if pod.mig_profile is not None:
            gpu = float(mig_gpus(pod.mig_profile))
        elif pod.gpu_fraction is not None and pod.gpu_devices:
            gpu = fraction_units(pod.gpu_fraction) * pod.gpu_devices / UNIT
        elif pod.gpu_memory_mib is not None and pod.gpu_devices:
            units = memory_units(pod.gpu_memory_mib, self._min_gpu_memory[pool])
            gpu = min(units, UNIT) * pod.gpu_devices / UNIT
        else:
            gpu = float(pod.gpus)
        pods = job_pods(job)
        return (gpu * pods, float(pod.cpu_millis * pods), pod.memory_mib * pods)

    # -- bind / unbind -------------------------------------------------------------------------------

    def try_place(self, record: JobRecord, pool: str) -> list[PodPlacement] | int:
        """Place every pod of the gang in `pool`, or none: the placements, or how many pods had found room."""
        index = self.pools[pool]
        job = record.job
        placed: list[PodPlacement] = []
        for _ in range(job_pods(job)):
            placement = index.find(job.pod, job.node_type)
            if placement is None:
                for done in reversed(placed):
                    self._unbind_pod(done, job.id)
                return len(placed)
            self._bind_pod(placement, job.id)
            placed.append(placement)
        return placed

    def no_fit_reason(self, record: JobRecord, pool: str, found: int) -> str:
        """Why `try_place` failed, given how many pods of the gang it had found room for."""
        if found:
            return messages.gang(pool, found, job_pods(record.job))
        return self.pools[pool].no_fit_reason(record.job.pod, record.job.node_type)

    def commit(self, record: JobRecord, pool: str, pods: list[PodPlacement]) -> None:
        """Account a placement made by `try_place` to the job's queues."""
        record.pool = pool
        record.pods = pods
        gpu = sum(p.gpu_charge for p in pods)
        record.charge = (gpu, float(sum(p.cpu for p in pods)), float(sum(p.memory for p in pods)))
        queue = self.queue(record, pool)
        queue.charge(record.charge, record.job.preemptible, +1)
        queue.running[record.job.id] = record

    def bind(self, record: JobRecord, pool: str, pods: list[PodPlacement]) -> None:
        for placement in pods:
            self._bind_pod(placement, record.job.id)
        self.commit(record, pool, pods)

    def bind_if_room(self, record: JobRecord, pool: str, pods: list[PodPlacement]) -> bool:
        """Put an unbound job back exactly where it was, if all of that is still free."""
        bound: list[PodPlacement] = []
        for placement in pods:
            if not placement.node.has_room_for(placement):
                self.release_pods(record, bound)
                return False
            self._bind_pod(placement, record.job.id)
            bound.append(placement)
        self.commit(record, pool, pods)
        return True

    def unbind(self, record: JobRecord) -> tuple[str, list[PodPlacement]]:
        """Free a placed job; returns what `bind` needs to put it back exactly."""
        pool, pods = record.pool, record.pods
        assert pool is not None and pods is not None
        queue = self.queue(record, pool)
        queue.charge(record.charge, record.job.preemptible, -1)
        del queue.running[record.job.id]
        for placement in reversed(pods):
            self._unbind_pod(placement, record.job.id)
        record.pool, record.pods, record.charge = None, None, ZERO
        return pool, pods

    def release_pods(self, record: JobRecord, pods: list[PodPlacement]) -> None:
        """Undo a `try_place` that is not committed."""
        for placement in reversed(pods):
            self._unbind_pod(placement, record.job.id)

    def _bind_pod(self, placement: PodPlacement, job_id: str) -> None:
        placement.node.bind(placement, job_id)
        self.pools[placement.node.node.pool].update(placement.node)

    def _unbind_pod(self, placement: PodPlacement, job_id: str) -> None:
        placement.node.unbind(placement, job_id)
        self.pools[placement.node.node.pool].update(placement.node)


def job_pods(job: Job) -> int:
    return max(1, job.pods)


def _signature(job: Job) -> tuple:
    pod = job.pod
    if pod.mig_profile is not None:
        kind = "mig"
    elif pod.gpu_fraction is not None and pod.gpu_devices:
        kind = "fraction"
    elif pod.gpu_memory_mib is not None and pod.gpu_devices:
        kind = "memory"
    else:
        kind = "whole"
    return (kind, pod.mig_profile, job.node_type, tuple(name for name, _ in pod.extended))


def _size(job: Job) -> tuple[float, ...]:
    pod: PodRequest = job.pod
    share = pod.gpu_fraction if pod.gpu_fraction is not None else pod.gpu_memory_mib
    return (
        float(job_pods(job)),
        float(pod.gpus),
        float(share or 0.0),
        float(pod.gpu_devices),
        float(pod.cpu_millis),
        pod.memory_mib,
        *(amount for _, amount in pod.extended),
    )

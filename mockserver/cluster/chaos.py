"""Cluster chaos: a node goes down or comes back, a GPU fails or is mended, a project's quota changes.

Each move is what a real cluster does, told through the workloads' own transitions so that clients see
it in the Run:ai API's words: a node that stops evicts its pods (their workloads go Running →
Terminating → Pending, then run again where there is room), a failed GPU fails the pod on it (a
container failure: restarted within its backoff limit, else Failed) and takes no pod until mended, and
a smaller quota lets the scheduler reclaim what is now over it. The scheduler's part is
`scheduler/chaos.py`; scenario files, the control API and the `runai_mock` fixture all come here.
"""

from __future__ import annotations

from dataclasses import dataclass

from mockserver.cluster.cluster import FakeCluster
from mockserver.cluster.engine import Engine
from mockserver.cluster.errors import ClusterError, Conflict, NotFound
from mockserver.cluster.events import EventKind
from mockserver.cluster.lifecycle import Trigger
from mockserver.cluster.reasons import Reason, ReasonCode
from mockserver.cluster.scheduler.nodes import NodeState
from mockserver.cluster.topology import UNLIMITED


@dataclass(frozen=True)
class ChaosResult:
    summary: str  # what happened, in a sentence
    affected: tuple[str, ...] = ()  # ids of the workloads it moved


# Each move is a small frozen record the cluster applies under its lock (`FakeCluster.change`): a record,
# not a closure, so that the state file can journal the move and replay it after a restart.


@dataclass(frozen=True)
class NodeDown:
    """The node stops being ready: its pods are evicted and it takes no pod until it is up again."""

    name: str

    def __call__(self, engine: Engine) -> ChaosResult:
        name = self.name
        node = _node(engine, name)
        if not node.ready:
            return ChaosResult(f"node {name} is already down")
        chaos = engine.scheduler.chaos
        chaos.set_ready(node, False)  # first: the room its pods free must not be taken again
        reason = Reason(
            f"node {name} is not ready; its pods were evicted", ReasonCode.NODE_NOT_READY, node=name
        )
        moved = tuple(chaos.jobs_on(node))
        # Pod by pod, as a cycle evicts: a workload keeping other pods (a gang its minimum) loses just
        # these, which its Job controller recreates (Running -> Degraded); any other is evicted whole.
        result = engine.scheduler.evict_node(node, reason)
        for eviction in result.evicted:
            _evict(engine, eviction.job_id, Trigger.EVICTED, reason, known=False)
        engine.jobs.on_cycle(result)
        return _told(engine, f"node {name} is down (NotReady); {len(moved)} workload(s) evicted", moved)


@dataclass(frozen=True)
class NodeUp:
    name: str

    def __call__(self, engine: Engine) -> ChaosResult:
        name = self.name
        node = _node(engine, name)
        if node.ready:
            return ChaosResult(f"node {name} is already up")
        engine.scheduler.chaos.set_ready(node, True)
        return _told(engine, f"node {name} is ready again", ())


@dataclass(frozen=True)
class GpuUnhealthy:
    """An XID-style device failure: the pods on the GPU fail, and it takes no pod until mended."""

    name: str
    index: int

    def __call__(self, engine: Engine) -> ChaosResult:
        name, index = self.name, self.index
        node = _device(engine, name, index)
        chaos = engine.scheduler.chaos
        if chaos.failed(node, index):
            return ChaosResult(f"GPU {index} of node {name} has failed already")
        reason = Reason(
            f"GPU {index} of node {name} failed (XID 79, fallen off the bus); the container on it failed",
            ReasonCode.GPU_FAILED,
            node=name,
            gpu=index,
        )
        moved = tuple(_evict(engine, job, Trigger.CRASHED, reason) for job in chaos.jobs_on(node, index))
        if not chaos.fail_device(node, index):  # pragma: no cover - every holder was released above
            raise Conflict(f"GPU {index} of node {name} is still held")
        return _told(
            engine, f"GPU {index} of node {name} is unhealthy; {len(moved)} workload(s) failed", moved
        )


@dataclass(frozen=True)
class GpuHealthy:
    name: str
    index: int

    def __call__(self, engine: Engine) -> ChaosResult:
        name, index = self.name, self.index
        node = _device(engine, name, index)
        if not engine.scheduler.chaos.failed(node, index):
            return ChaosResult(f"GPU {index} of node {name} is healthy already")
        engine.scheduler.chaos.heal_device(node, index)
        return _told(engine, f"GPU {index} of node {name} is healthy again", ())


@dataclass(frozen=True)
class SetQuota:
    """The project's deserved GPUs in a node pool (its first default pool, else the cluster's first)."""

    project_id: str
    node_pool: str | None
    gpus: float

    def __call__(self, engine: Engine) -> ChaosResult:
        project_id, node_pool, gpus = self.project_id, self.node_pool, self.gpus
        project = engine.topology.project(project_id)
        if project is None:
            raise NotFound(f"no project with id {project_id}")
        pools = engine.topology.node_pools
        pool = node_pool or (project.default_node_pools or pools)[0]
        if pool not in pools:
            raise ClusterError(f"unknown node pool {pool}")
        limit = project.quotas[pool]["gpu"].limit
        if gpus < 0 or (limit != UNLIMITED and gpus > limit):
            raise ClusterError(f"deserved GPUs must be between 0 and the project's limit ({limit:g})")
        engine.scheduler.chaos.set_gpu_quota(project_id, pool, gpus)
        return _told(engine, f"project {project.name} deserves {gpus:g} GPUs in node pool {pool}", ())


def node_down(cluster: FakeCluster, name: str) -> ChaosResult:
    return cluster.change(NodeDown(name))


def node_up(cluster: FakeCluster, name: str) -> ChaosResult:
    return cluster.change(NodeUp(name))


def gpu_unhealthy(cluster: FakeCluster, name: str, index: int) -> ChaosResult:
    return cluster.change(GpuUnhealthy(name, index))


def gpu_healthy(cluster: FakeCluster, name: str, index: int) -> ChaosResult:
    return cluster.change(GpuHealthy(name, index))


def set_quota(cluster: FakeCluster, project_id: str, node_pool: str | None, gpus: float) -> ChaosResult:
    return cluster.change(SetQuota(project_id, node_pool, gpus))


def _node(engine: Engine, name: str) -> NodeState:
    node = engine.scheduler.chaos.node(name)
    if node is None:
        raise NotFound(f"no node named {name}")
    return node


def _device(engine: Engine, name: str, index: int) -> NodeState:
    node = _node(engine, name)
    if not 0 <= index < node.node.gpus or node.node.is_mig:
        raise ClusterError(
            f"node {name} has no whole GPU {index} (it has {node.node.gpus}, MIG: {node.node.is_mig})"
        )
    return node


def _evict(engine: Engine, job_id: str, trigger: Trigger, reason: Reason, known: bool = True) -> str:
    """Move the workload by its own table; a phase with no such row gets its pods back in the queue.
    `known`: the scheduler still holds the job (a node-down eviction has already taken it out)."""
    workload = engine.workloads.get(job_id)
    if workload is None:
        if known:
            engine.scheduler.release(job_id)
    elif not engine.fire(workload, trigger, reason):
        engine.requeue(workload)
    return job_id


def _told(engine: Engine, summary: str, moved: tuple[str, ...]) -> ChaosResult:
    engine.log.record(engine.at, EventKind.CLUSTER, None, None, summary)
    engine.request_cycle()
    return ChaosResult(summary, moved)

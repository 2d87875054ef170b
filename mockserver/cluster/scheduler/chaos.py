"""Cluster chaos, the scheduler's part: nodes that stop, GPUs that fail, quotas that change.

A node that is not ready takes no pod: `NodeState.blocker` says so in the words Kubernetes uses for its
taint, so pending reasons name it. A failed GPU is held by a placement of its own (`UNHEALTHY`), bound
and unbound through the node's ordinary `bind`/`unbind`: the device indexes, the pool's index and the
snapshot stay consistent and nothing else needs to know. Evicting the pods that were there is the
engine's business (`cluster/chaos.py`), through the workloads' own transitions.
"""

from __future__ import annotations

from typing import Protocol

from mockserver.cluster.resources import PodRequest
from mockserver.cluster.scheduler.nodes import UNIT, NodeState, PodPlacement
from mockserver.cluster.scheduler.state import ClusterState, PodRecord
from mockserver.cluster.scheduler.vector import GPU

# The holder a failed device shows in the snapshot.
UNHEALTHY = "unhealthy-gpu"
_NOTHING = PodRequest()


class _Changed(Protocol):
    def changed(self) -> None: ...


class SchedulerChaos:
    def __init__(self, state: ClusterState, scheduler: _Changed) -> None:
        self._state = state
        # Told that its next cycle has something to decide. The object, not its bound method: a snapshot
        # pickles the scheduler, and the state file's codec refuses a bound method (builtins.getattr).
        self._scheduler = scheduler
        self._nodes = {n.node.name: n for n in state.nodes}
        self._failed: dict[tuple[str, int], PodPlacement] = {}

    def node(self, name: str) -> NodeState | None:
        return self._nodes.get(name)

    def jobs_on(self, node: NodeState, device: int | None = None) -> list[str]:
        """Ids of the jobs with a pod on the node (on one of its devices), in placement order."""
        found: dict[str, None] = {}
        for queue in self._state.projects.values():
            for record in queue.running.values():
                for placement in record.pods or ():
                    if placement.node is node and (
                        device is None or any(i == device for i, _ in placement.devices)
                    ):
                        found[record.job.id] = None
        return list(found)

    def records_on(self, node: NodeState) -> list[PodRecord]:
        """The pods placed on the node, in placement order."""
        return [
            record
            for queue in self._state.projects.values()
            for record in queue.running.values()
            if any(placement.node is node for placement in record.pods or ())
        ]

    def set_ready(self, node: NodeState, ready: bool) -> None:
        node.ready = ready
        self._state.pools[node.node.pool].update(node)  # bumps the pool's version: reasons are redone
        self._scheduler.changed()

    def failed(self, node: NodeState, device: int) -> bool:
        return (node.node.name, device) in self._failed

    def fail_device(self, node: NodeState, device: int) -> bool:
        """Hold a device nobody uses any more as failed; False if a pod still holds it."""
        if node.used[device]:
            return False
        placement = PodPlacement(node, ((device, UNIT),), True, None, _NOTHING)
        node.bind(placement, UNHEALTHY)
        self._state.pools[node.node.pool].update(node)
        self._failed[(node.node.name, device)] = placement
        self._scheduler.changed()
        return True

    def heal_device(self, node: NodeState, device: int) -> None:
        placement = self._failed.pop((node.node.name, device), None)
        if placement is not None:
            node.unbind(placement, UNHEALTHY)
            self._state.pools[node.node.pool].update(node)
            self._scheduler.changed()

    def set_gpu_quota(self, project_id: str, pool: str, gpus: float) -> None:
        """A project's deserved GPUs in a pool; the next cycle's fair shares, reclaim and the
        non-preemptible cap read it."""
        queue = self._state.projects[project_id, pool]
        queue.deserved = queue.deserved.with_value(GPU, gpus)
        queue.fair_share = queue.fair_share  # recomputes the shares it caches from deserved
        self._scheduler.changed()

"""Choosing a node for a pod inside one node pool, by the pool's placement strategy (docs/scheduler.md §3).

Bin-pack (the default): a fraction goes first to a node that has a shared device it fits on; otherwise, and
for whole GPUs, the node with the fewest idle GPUs that can take the pod wins (ties: topology order).
CPU-only pods prefer CPU-only nodes, then the node with the least free CPU. To keep a cycle cheap at
thousands of nodes, GPU nodes are indexed by their idle GPU count, so a search starts at the fullest node
that can fit.

Spread: the node with the largest free share of its GPUs (CPU-only pods: of its CPU) wins, and a fraction
takes an untouched device before a shared one. MIG slices go to the node with the fewest (bin-pack) or most
(spread) free slices of the profile.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable

from mockserver.cluster.resources import PodRequest
from mockserver.cluster.scheduler import messages
from mockserver.cluster.scheduler.nodes import UNIT, NodeState, PodPlacement
from mockserver.cluster.topology import Placement, PlacementStrategy

BINPACK = PlacementStrategy()


class PoolIndex:
    def __init__(self, pool: str, nodes: list[NodeState], strategy: PlacementStrategy = BINPACK) -> None:
        self.pool = pool
        self.nodes = nodes
        self.spread_gpu = strategy.gpu is Placement.SPREAD
        self.spread_cpu = strategy.cpu is Placement.SPREAD
        self.most_gpus = max((n.node.gpus for n in nodes), default=0)
        # idle GPU count -> sorted node indexes (non-MIG GPU nodes only)
        self._by_idle: list[list[int]] = [[] for _ in range(self.most_gpus + 1)]
        # idle GPU count -> sorted indexes of nodes with a shared device that still has room
        self._with_room: list[list[int]] = [[] for _ in range(self.most_gpus + 1)]
        self._where: dict[int, tuple[int | None, int | None]] = {}
        self._mig = [n for n in nodes if n.node.is_mig]
        self._by_index = {n.index: n for n in nodes}
        # Bumped on every change, so that reasons computed for an unchanged pool can be reused.
        self.version = 0
        self._reasons: dict[tuple[PodRequest, str | None], str] = {}
        self._reasons_version = 0
        for node in nodes:
            self.update(node)

    def update(self, node: NodeState) -> None:
        self.version += 1
        if node.node.is_mig or not node.node.gpus:
            return
        old_idle, old_room = self._where.get(node.index, (None, None))
        new_idle = node.idle
        new_room = node.idle if node.shared_room() > 0 else None
        if old_idle != new_idle:
            if old_idle is not None:
                _discard(self._by_idle[old_idle], node.index)
            insort(self._by_idle[new_idle], node.index)
        if old_room != new_room:
            if old_room is not None:
                _discard(self._with_room[old_room], node.index)
            if new_room is not None:
                insort(self._with_room[new_room], node.index)
        self._where[node.index] = (new_idle, new_room)

    def could_ever_take(self, request: PodRequest, node_type: str | None) -> bool:
        """Whether some node of the pool could take the pod were it empty (evictions cannot do more)."""
        return any(node.could_ever_take(request, node_type) for node in self.nodes)

    def find(self, request: PodRequest, node_type: str | None) -> PodPlacement | None:
        if request.mig_profile is not None:
            return self._find_mig(request, node_type)
        if request.is_shared:
            return self._find_shared(request, node_type)
        if request.gpus:
            return self._find_whole(request, node_type)
        return self._find_cpu_only(request, node_type)

    def _find_whole(self, request: PodRequest, node_type: str | None) -> PodPlacement | None:
        if self.spread_gpu:
            node = self._emptiest(request, node_type, lambda n: n.idle >= request.gpus)
            return (
                None
                if node is None
                else PodPlacement(node, node.whole_devices(request.gpus), True, None, request)
            )
        for idle in range(request.gpus, self.most_gpus + 1):
            for index in self._by_idle[idle]:
                node = self._by_index[index]
                if node.blocker(request, node_type) is None:
                    return PodPlacement(node, node.whole_devices(request.gpus), True, None, request)
        return None

    def _find_shared(self, request: PodRequest, node_type: str | None) -> PodPlacement | None:
        count = request.gpu_devices
        if self.spread_gpu:

            def room(node: NodeState) -> bool:
                units = node.units_for(request)
                return units <= UNIT and node.shared_fits(units) + node.idle >= count

            node = self._emptiest(request, node_type, room)
            return None if node is None else self._shared_on(node, node.units_for(request), request)
        # First pass: nodes where the pod can join a shared device (KAI's gpusharingorder bonus).
        for idle, indexes in enumerate(self._with_room):
            for index in indexes:
                node = self._by_index[index]
                units = node.units_for(request)
                fits = node.shared_fits(units) if units <= UNIT else 0
                if fits and fits + idle >= count and node.blocker(request, node_type) is None:
                    return self._shared_on(node, units, request)
        for idle in range(max(count, 1), self.most_gpus + 1):
            for index in self._by_idle[idle]:
                node = self._by_index[index]
                if node.units_for(request) <= UNIT and node.blocker(request, node_type) is None:
                    return self._shared_on(node, node.units_for(request), request)
        return None

    def _shared_on(self, node: NodeState, units: int, request: PodRequest) -> PodPlacement | None:
        devices = node.shared_devices(units, request.gpu_devices, self.spread_gpu)
        return PodPlacement(node, devices, False, None, request) if devices else None

    def _emptiest(
        self, request: PodRequest, node_type: str | None, fits: Callable[[NodeState], bool]
    ) -> NodeState | None:
        """Spread: of the GPU nodes that fit, the one with the largest free share of its GPUs."""
        best: NodeState | None = None
        best_key = (0.0, 0)
        for idle in range(self.most_gpus, -1, -1):
            for index in self._by_idle[idle]:
                node = self._by_index[index]
                key = (node.free_gpu_share(), -node.index)
                if (
                    (best is None or key > best_key)
                    and fits(node)
                    and node.blocker(request, node_type) is None
                ):
                    best, best_key = node, key
        return best

    def _find_mig(self, request: PodRequest, node_type: str | None) -> PodPlacement | None:
        profile = request.mig_profile
        assert profile is not None
        fitting = [
            n for n in self._mig if n.mig_free.get(profile, 0) > 0 and n.blocker(request, node_type) is None
        ]
        if not fitting:
            return None
        sign = -1 if self.spread_gpu else 1
        node = min(fitting, key=lambda n: (sign * n.mig_free[profile], n.index))
        return PodPlacement(node, (), False, profile, request)

    def _find_cpu_only(self, request: PodRequest, node_type: str | None) -> PodPlacement | None:
        fitting = [n for n in self.nodes if n.blocker(request, node_type) is None]
        if not fitting:
            return None
        if self.spread_cpu:
            node = min(fitting, key=lambda n: (n.node.gpus > 0, -_free_cpu_share(n), n.index))
        else:
            node = min(fitting, key=lambda n: (n.node.gpus > 0, n.cpu_free, n.index))
        return PodPlacement(node, (), False, None, request)

    def no_fit_reason(self, request: PodRequest, node_type: str | None) -> str:
        """Per-node reasons the pod fits nowhere, counted as KAI words its fit errors."""
        if self._reasons_version != self.version:
            self._reasons.clear()
            self._reasons_version = self.version
        key = (request, node_type)
        if key not in self._reasons:
            self._reasons[key] = self._scan(request, node_type)
        return self._reasons[key]

    def _scan(self, request: PodRequest, node_type: str | None) -> str:
        failures: dict[str, int] = {}
        for node in self.nodes:
            why = node.blocker(request, node_type) or _gpu_shortage(node, request)
            if why is not None:
                failures[why] = failures.get(why, 0) + 1
        return messages.no_fit(self.pool, failures)


def _gpu_shortage(node: NodeState, request: PodRequest) -> str | None:
    if request.mig_profile is not None:
        short = node.mig_free.get(request.mig_profile, 0) <= 0
        return f"didn't have enough resources: mig profile: {request.mig_profile}" if short else None
    if request.is_shared:
        units = node.units_for(request)
        what = "GPUs" if request.gpu_fraction is not None else "GPU memory"
        if units > UNIT or node.shared_fits(units) + node.idle < request.gpu_devices:
            return f"didn't have enough resources: {what}"
        return None
    if request.gpus > node.idle:
        return "didn't have enough resources: GPUs"
    return None


def _free_cpu_share(node: NodeState) -> float:
    return node.cpu_free / node.node.cpu_millis if node.node.cpu_millis else 0.0


def _discard(indexes: list[int], index: int) -> None:
    at = bisect_left(indexes, index)
    if at < len(indexes) and indexes[at] == index:
        del indexes[at]

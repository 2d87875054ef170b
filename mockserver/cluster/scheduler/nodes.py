"""A node's free capacity: devices (whole or shared by fractions), MIG slices, CPU, memory, extended resources.

A device's use is counted in millionths (`UNIT` per device) so that fractions add up exactly: three pods of
0.333 fit on one device and ten of 0.1 fill it, with no float drift.
"""

from __future__ import annotations

import math

from mockserver.cluster.resources import PodRequest
from mockserver.cluster.scheduler.jobs import DeviceShare, PlacedPod
from mockserver.cluster.topology import NODE_TYPE_LABEL, Node

UNIT = 1_000_000
# Why a node that is down takes no pod: the taint Kubernetes puts on it, as a fit error words it.
NOT_READY = "had untolerated taint {node.kubernetes.io/not-ready: }"
# A GPU-memory request is turned into a fraction of the node's device, rounded up to 0.01 GPU.
_MEMORY_STEP = UNIT // 100


def fraction_units(fraction: float) -> int:
    return min(UNIT, max(1, round(fraction * UNIT)))


def memory_units(memory_mib: float, device_mib: int) -> int:
    """A GPU-memory request as a share of a device of `device_mib`, rounded up to 0.01 GPU."""
    if device_mib <= 0:
        return UNIT + 1
    hundredths = math.ceil(memory_mib * 100 / device_mib - 1e-9)
    return max(1, hundredths) * _MEMORY_STEP


def mig_gpus(profile: str) -> int:
    """The GPUs a MIG slice counts for in quotas: the leading number of `<g>g.<m>gb`."""
    head = profile.split("g.", 1)[0]
    return int(head) if head.isdigit() else 1


class PodPlacement:
    """Where one pod sits and what it holds there; unbinding it gives back exactly this."""

    __slots__ = ("cpu", "devices", "extended", "memory", "mig_profile", "node", "whole")

    def __init__(
        self,
        node: NodeState,
        devices: tuple[tuple[int, int], ...],
        whole: bool,
        mig_profile: str | None,
        request: PodRequest,
    ) -> None:
        self.node = node
        self.devices = devices
        self.whole = whole
        self.mig_profile = mig_profile
        self.cpu = request.cpu_millis
        self.memory = request.memory_mib
        self.extended = request.extended

    @property
    def gpu_charge(self) -> float:
        if self.mig_profile is not None:
            return float(mig_gpus(self.mig_profile))
        return sum([units for _, units in self.devices]) / UNIT

    def placed(self, job_id: str, index: int) -> PlacedPod:
        return PlacedPod(
            job_id=job_id,
            index=index,
            node=self.node.node.name,
            pool=self.node.node.pool,
            devices=tuple(DeviceShare(i, round(units / UNIT, 6)) for i, units in self.devices),
            mig_profile=self.mig_profile,
        )


class NodeState:
    __slots__ = (
        "cpu_free",
        "extended_free",
        "holders",
        "idle",
        "index",
        "memory_free",
        "mig_free",
        "node",
        "node_type",
        "ready",
        "used",
        "whole",
    )

    def __init__(self, node: Node, index: int) -> None:
        self.node = node
        self.index = index
        self.node_type = node.labels.get(NODE_TYPE_LABEL)
        self.used = [0] * node.gpus
        self.whole = [False] * node.gpus
        self.holders: list[list[str]] = [[] for _ in range(node.gpus)]
        self.idle = 0 if node.is_mig else node.gpus
        self.cpu_free = node.cpu_millis
        self.memory_free = float(node.memory_mib)
        self.extended_free = {name: float(amount) for name, amount in node.extended.items()}
        self.mig_free = dict(node.mig_profiles)
        self.ready = True  # False while the node is down (scheduler/chaos.py): it takes no pod

    # -- fit -----------------------------------------------------------------------------------------

    def blocker(self, request: PodRequest, node_type: str | None) -> str | None:
        """Why this node cannot take the pod apart from GPU capacity, worded for a pending reason."""
        if not self.ready:
            return NOT_READY
        if node_type is not None and self.node_type != node_type:
            return f"didn't match the node type {node_type}"
        if request.mig_profile is not None and request.mig_profile not in self.mig_free:
            return f"didn't offer mig profile: {request.mig_profile}"
        if self.node.is_mig and (request.gpus or request.is_shared):
            return "offer only MIG slices"
        if request.cpu_millis > self.cpu_free:
            return "didn't have enough resources: CPU cores"
        if request.memory_mib > self.memory_free + 1e-9:
            return "didn't have enough resources: memory"
        for name, amount in request.extended:
            if amount > self.extended_free.get(name, 0.0) + 1e-9:
                return f"didn't have enough resources: {name}"
        return None

    def could_ever_take(self, request: PodRequest, node_type: str | None) -> bool:
        """Whether the pod would fit this node with nothing else on it: the most any eviction can free.
        Permissive where devices are shared (their share is left to the real fit), never the reverse."""
        node = self.node
        if not self.ready or (node_type is not None and self.node_type != node_type):
            return False
        if request.mig_profile is not None:
            return request.mig_profile in node.mig_profiles
        if node.is_mig and (request.gpus or request.is_shared):
            return False
        if request.gpus > node.gpus or request.gpu_devices > node.gpus:
            return False
        if request.cpu_millis > node.cpu_millis or request.memory_mib > node.memory_mib + 1e-9:
            return False
        return all(amount <= node.extended.get(name, 0.0) + 1e-9 for name, amount in request.extended)

    def units_for(self, request: PodRequest) -> int:
        """The device share a fractional pod takes here; above UNIT when it cannot fit on one device."""
        if request.gpu_fraction is not None:
            return fraction_units(request.gpu_fraction)
        return memory_units(request.gpu_memory_mib or 0.0, self.node.gpu_memory_mib)

    def shared_room(self) -> int:
        """The most a fraction can still get on a device already shared; 0 if none has room."""
        best = 0
        for used, whole in zip(self.used, self.whole, strict=True):
            if used and not whole and UNIT - used > best:
                best = UNIT - used
        return best

    def shared_fits(self, units: int) -> int:
        return sum(
            1 for i, used in enumerate(self.used) if used and not self.whole[i] and UNIT - used >= units
        )

    # -- choose --------------------------------------------------------------------------------------

    def whole_devices(self, count: int) -> tuple[tuple[int, int], ...]:
        """The first `count` untouched devices (fewer if there are not as many)."""
        chosen: list[tuple[int, int]] = []
        if count <= 0:
            return ()
        whole = self.whole
        for i, used in enumerate(self.used):
            if not used and not whole[i]:
                chosen.append((i, UNIT))
                if len(chosen) == count:
                    break
        return tuple(chosen)

    def shared_devices(
        self, units: int, count: int, spread: bool = False
    ) -> tuple[tuple[int, int], ...] | None:
        """Bin-pack: the fullest shared device first, then untouched ones. Spread: untouched devices first,
        then the least used shared one (KAI's gpuspread scores a device by its free share). None if too
        few fit."""
        shared = sorted(
            (i for i, used in enumerate(self.used) if used and not self.whole[i] and UNIT - used >= units),
            key=lambda i: (self.used[i] if spread else -self.used[i], i),
        )
        fresh = [i for i, used in enumerate(self.used) if not used and not self.whole[i]]
        chosen = (fresh + shared if spread else shared + fresh)[:count]
        return tuple((i, units) for i in chosen) if len(chosen) == count else None

    def free_gpu_share(self) -> float:
        """The part of the node's GPUs nobody holds, 0..1: the spread strategy's node score."""
        if not self.used:
            return 0.0
        return 1.0 - sum(self.used) / (UNIT * len(self.used))

    def has_room_for(self, placement: PodPlacement) -> bool:
        """True if exactly this placement (same devices) could be bound again now."""
        for i, units in placement.devices:
            if self.whole[i] or self.used[i] + units > UNIT or (placement.whole and self.used[i]):
                return False
        if placement.mig_profile is not None and self.mig_free.get(placement.mig_profile, 0) < 1:
            return False
        if placement.cpu > self.cpu_free or placement.memory > self.memory_free + 1e-9:
            return False
        return all(amount <= self.extended_free.get(name, 0.0) + 1e-9 for name, amount in placement.extended)

    # -- bind ----------------------------------------------------------------------------------------

    def bind(self, placement: PodPlacement, job_id: str) -> None:
        for i, units in placement.devices:
            if not self.used[i]:
                self.idle -= 1
            self.used[i] += units
            self.whole[i] = placement.whole
            self.holders[i].append(job_id)
        if placement.mig_profile is not None:
            self.mig_free[placement.mig_profile] -= 1
        self._take(placement, -1)

    def unbind(self, placement: PodPlacement, job_id: str) -> None:
        for i, units in placement.devices:
            self.used[i] -= units
            self.holders[i].remove(job_id)
            if not self.used[i]:
                self.whole[i] = False
                self.idle += 1
        if placement.mig_profile is not None:
            self.mig_free[placement.mig_profile] += 1
        self._take(placement, +1)

    def _take(self, placement: PodPlacement, sign: int) -> None:
        self.cpu_free += sign * placement.cpu
        self.memory_free += sign * placement.memory
        for name, amount in placement.extended:
            self.extended_free[name] = self.extended_free.get(name, 0.0) + sign * amount

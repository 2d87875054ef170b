"""What one pod of a workload asks for, in the cluster's units (read from the API at the edge, `parsing/compute.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class GpuForm(Enum):
    """How a pod asks for GPUs: the domain's side of the API's `gpuRequestType`."""

    NONE = "none"
    DEVICES = "devices"  # whole devices
    PORTION = "portion"  # a fraction of each of `gpu_devices` devices
    MEMORY = "memory"  # an amount of memory on each of `gpu_devices` devices
    MIG = "mig"  # one MIG slice


@dataclass(frozen=True)
class PodRequest:
    """One pod's request. Exactly one GPU form is used: whole devices, a fraction or an amount of GPU
    memory on each of `gpu_devices` devices, or a MIG slice. `extended` holds (resource, amount) pairs
    sorted by name, a tuple so that requests stay hashable."""

    gpus: int = 0
    gpu_fraction: float | None = None
    gpu_devices: int = 0
    gpu_memory_mib: float | None = None
    mig_profile: str | None = None
    cpu_millis: int = 0
    memory_mib: float = 0
    extended: tuple[tuple[str, float], ...] = ()

    @property
    def gpu_form(self) -> GpuForm:
        if self.mig_profile is not None:
            return GpuForm.MIG
        if self.gpu_fraction is not None:
            return GpuForm.PORTION
        if self.gpu_memory_mib is not None:
            return GpuForm.MEMORY
        return GpuForm.DEVICES if self.gpus else GpuForm.NONE

    @property
    def is_shared(self) -> bool:
        """True for a request that shares devices with others (a fraction or an amount of GPU memory)."""
        return self.gpu_devices > 0 and (self.gpu_fraction is not None or self.gpu_memory_mib is not None)

    @property
    def uses_gpu(self) -> bool:
        return self.gpus > 0 or self.is_shared or self.mig_profile is not None

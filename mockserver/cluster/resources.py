"""What one pod of a training asks for, translated from the API's `spec.compute` block."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mockserver.cluster.quantity import parse_quantity, to_mib


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
    def is_shared(self) -> bool:
        """True for a request that shares devices with others (a fraction or an amount of GPU memory)."""
        return self.gpu_devices > 0 and (self.gpu_fraction is not None or self.gpu_memory_mib is not None)

    @property
    def uses_gpu(self) -> bool:
        return self.gpus > 0 or self.is_shared or self.mig_profile is not None


def pod_request_from_compute(compute: dict[str, Any] | None) -> PodRequest:
    """Only the fields of the selected `gpuRequestType` count; malformed values are ignored, never fatal."""
    if not isinstance(compute, dict):
        return PodRequest()
    devices = _count(compute.get("gpuDevicesRequest"))
    request_type = compute.get("gpuRequestType")
    gpu: dict[str, Any] = {}
    if request_type == "portion":
        portion = _number(compute.get("gpuPortionRequest"))
        count = devices or 1
        if portion is not None and portion >= 1:
            # A full portion is a whole device, which must not be shared with fractions.
            gpu = {"gpus": count}
        elif portion is not None and portion > 0:
            gpu = {"gpu_fraction": portion, "gpu_devices": count}
    elif request_type == "memory":
        memory = _mib(compute.get("gpuMemoryRequest"))
        if memory is not None and memory > 0:
            gpu = {"gpu_memory_mib": memory, "gpu_devices": devices or 1}
    elif request_type == "migProfile":
        profile = compute.get("migProfile")
        if isinstance(profile, str) and profile:
            gpu = {"mig_profile": profile}
    elif request_type is None and devices:
        gpu = {"gpus": devices}
    cores = _number(compute.get("cpuCoreRequest"))
    return PodRequest(
        **gpu,
        cpu_millis=round(cores * 1000) if cores and cores > 0 else 0,
        memory_mib=max(_mib(compute.get("cpuMemoryRequest")) or 0.0, 0.0),
        extended=_extended(compute.get("extendedResources")),
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _count(value: Any) -> int:
    number = _number(value)
    return int(number) if number is not None and number > 0 else 0


def _mib(value: Any) -> float | None:
    if isinstance(value, str):
        try:
            return _number(to_mib(value))
        except ValueError:
            return None
    return None


def _extended(value: Any) -> tuple[tuple[str, float], ...]:
    totals: dict[str, float] = {}
    for item in value if isinstance(value, list) else []:
        if not isinstance(item, dict) or item.get("exclude") is True:
            continue
        name, quantity = item.get("resource"), item.get("quantity")
        if not isinstance(name, str) or not name:
            continue
        try:
            amount = _number(parse_quantity(quantity)) if isinstance(quantity, str) else _number(quantity)
        except ValueError:
            continue
        if amount is not None and amount > 0:
            totals[name] = totals.get(name, 0.0) + amount
    return tuple(sorted(totals.items()))

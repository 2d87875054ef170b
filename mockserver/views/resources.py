"""Requested and allocated resources as the workloads API shows them, per API version."""

from __future__ import annotations

from typing import Any

from mockserver.cluster.resources import GpuForm, PodRequest
from mockserver.cluster.scheduler import PlacedPod
from mockserver.cluster.scheduler.nodes import mig_gpus
from mockserver.parsing.compute import GPU_REQUEST_TYPES
from mockserver.versions import ApiVersion
from mockserver.views.facts import WorkloadFacts


def pod_gpus(pod: PlacedPod) -> float:
    """GPUs a placed pod counts for in quotas: device fractions, and a MIG slice by its leading number."""
    total = sum(d.fraction for d in pod.devices)
    if pod.mig_profile:
        total += mig_gpus(pod.mig_profile)
    return total


def allocated_gpus(facts: WorkloadFacts) -> float:
    return round(sum(pod_gpus(p) for p in facts.placement), 6)


def mib(value: float) -> str:
    return f"{round(value)}Mi"


def requested(version: ApiVersion, pod: PodRequest, pods: int, *, one_pod: bool = False) -> dict[str, Any]:
    form = pod.gpu_form
    gpu_request_type = GPU_REQUEST_TYPES.get(form)
    gpu: float | None = None
    gpu_memory: str | None = None
    if form is GpuForm.PORTION:
        gpu = (pod.gpu_fraction or 0.0) * pod.gpu_devices * pods
    elif form is GpuForm.MEMORY:
        gpu_memory = mib((pod.gpu_memory_mib or 0.0) * pod.gpu_devices * pods)
    elif form is not GpuForm.MIG:
        gpu = float(pod.gpus * pods)
    answer: dict[str, Any] = {
        "gpuRequestType": gpu_request_type,
        "gpu": {"request": gpu, "limit": None},
        "gpuMemory": {"request": gpu_memory, "limit": None},
        "cpu": {"request": pod.cpu_millis * pods / 1000 if pod.cpu_millis else None, "limit": None},
        "cpuMemory": {"request": mib(pod.memory_mib * pods) if pod.memory_mib else None, "limit": None},
        "extendedResources": [{"resource": n, "quantity": f"{q * pods:g}"} for n, q in pod.extended] or None,
    }
    if version.shows_mig_profiles and one_pod:
        answer["migProfile"] = pod.mig_profile  # a pod asks for one slice (`MigProfile`)
    elif version.shows_mig_profiles:
        answer["migProfile"] = [pod.mig_profile] * pods if pod.mig_profile else []
    elif form is GpuForm.MIG:
        # The latest API dropped MIG; a MIG request shows as what it counts for.
        answer["gpuRequestType"], answer["gpu"]["request"] = (
            None,
            float(mig_gpus(pod.mig_profile or "") * pods),
        )
    return answer


def allocated(version: ApiVersion, facts: WorkloadFacts) -> dict[str, Any]:
    placed = bool(facts.placement)
    pod, pods = facts.pod, len(facts.placement)
    answer: dict[str, Any] = {
        "gpu": allocated_gpus(facts),
        "gpuMemory": mib(pod.gpu_memory_mib * pod.gpu_devices * pods)
        if placed and pod.gpu_memory_mib
        else None,
        "cpu": pod.cpu_millis * pods / 1000 if placed else 0.0,
        "cpuMemory": mib(pod.memory_mib * pods) if placed and pod.memory_mib else None,
        "extendedResources": [{"resource": n, "quantity": f"{q * pods:g}"} for n, q in pod.extended]
        if placed and pod.extended
        else None,
    }
    if version.shows_mig_profiles:
        # `AllocatedResources.migProfile` is one `MigProfile` (a string): the slice its pods hold.
        answer["migProfile"] = next((p.mig_profile for p in facts.placement if p.mig_profile), None)
    return answer


def pod_allocated(version: ApiVersion, request: PodRequest, placed: PlacedPod | None) -> dict[str, Any]:
    if placed is None:
        return {"gpu": 0.0, "cpu": 0.0}
    answer: dict[str, Any] = {
        "gpu": round(pod_gpus(placed), 6),
        "cpu": request.cpu_millis / 1000,
        "gpuMemory": mib(request.gpu_memory_mib) if request.gpu_memory_mib else None,
        "cpuMemory": mib(request.memory_mib) if request.memory_mib else None,
    }
    if version.shows_mig_profiles and placed.mig_profile:
        answer["migProfile"] = placed.mig_profile  # one `MigProfile` (a string), as the 2.18 schema says
    return answer

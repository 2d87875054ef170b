"""Requested and allocated resources as the workloads API shows them, per API version."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from mockserver.cluster.resources import GpuForm, PodRequest
from mockserver.cluster.scheduler import PlacedPod
from mockserver.cluster.scheduler.nodes import mig_gpus
from mockserver.parsing.compute import GPU_REQUEST_TYPES
from mockserver.versions import VERSIONS, ApiVersion
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


def _counted_gpus(version: ApiVersion, pod: PodRequest) -> float:
    """What one pod's request counts for in `gpu`: devices, or portions of them; a MIG slice by its
    leading number where the version no longer shows MIG profiles; nothing for an amount of memory."""
    form = pod.gpu_form
    if form is GpuForm.PORTION:
        return (pod.gpu_fraction or 0.0) * pod.gpu_devices
    if form is GpuForm.MEMORY:
        return 0.0
    if form is GpuForm.MIG:
        return 0.0 if version.shows_mig_profiles else float(mig_gpus(pod.mig_profile or ""))
    return float(pod.gpus)


def _extended(pods: Sequence[PodRequest]) -> list[dict[str, str]] | None:
    totals: dict[str, float] = {}
    for pod in pods:
        for name, quantity in pod.extended:
            totals[name] = totals.get(name, 0.0) + quantity
    return [{"resource": n, "quantity": f"{q:g}"} for n, q in totals.items()] or None


def requested(version: ApiVersion, pods: Sequence[PodRequest], *, one_pod: bool = False) -> dict[str, Any]:
    """What `pods` ask for together (`WorkloadRequestResources`): each pod's own request summed, so that a
    distributed training's master counts with its own spec beside its workers'. The GPU form shown is
    the first pod's that asks for GPUs (a master without GPUs does not hide its workers' portions).

    Every row of a list asks this twice, mostly for the same few requests: the answer is remembered per
    request and handed out as a copy (its nested mappings too), so that no caller shares it."""
    if VERSIONS.get(version.name) is not version:  # a version made outside the table: not remembered
        return _answer(version, pods, one_pod)
    return _copy(_requested(version.name, tuple(pods), one_pod))


def _copy(kept: dict[str, Any]) -> dict[str, Any]:
    """A copy of a remembered answer that shares nothing mutable with it (its shape is `_answer`'s)."""
    answer = dict(kept)
    for key in ("gpu", "gpuMemory", "cpu", "cpuMemory"):
        answer[key] = dict(kept[key])
    if kept["extendedResources"] is not None:
        answer["extendedResources"] = [dict(item) for item in kept["extendedResources"]]
    if isinstance(kept.get("migProfile"), list):
        answer["migProfile"] = list(kept["migProfile"])
    return answer


@lru_cache(maxsize=1024)
def _requested(version_name: str, pods: tuple[PodRequest, ...], one_pod: bool) -> dict[str, Any]:
    return _answer(VERSIONS[version_name], pods, one_pod)


def _answer(version: ApiVersion, pods: Sequence[PodRequest], one_pod: bool) -> dict[str, Any]:
    form = next((p.gpu_form for p in pods if p.gpu_form is not GpuForm.NONE), GpuForm.NONE)
    gpu_request_type = GPU_REQUEST_TYPES.get(form)
    hidden_gpu = form is GpuForm.MEMORY or (form is GpuForm.MIG and version.shows_mig_profiles)
    gpu_memory = sum((p.gpu_memory_mib or 0.0) * p.gpu_devices for p in pods)
    cpu_millis = sum(p.cpu_millis for p in pods)
    memory_mib = sum(p.memory_mib for p in pods)
    answer: dict[str, Any] = {
        "gpuRequestType": gpu_request_type,
        "gpu": {
            "request": None if hidden_gpu else round(sum(_counted_gpus(version, p) for p in pods), 6),
            "limit": None,
        },
        "gpuMemory": {"request": mib(gpu_memory) if form is GpuForm.MEMORY else None, "limit": None},
        "cpu": {"request": cpu_millis / 1000 if cpu_millis else None, "limit": None},
        "cpuMemory": {"request": mib(memory_mib) if memory_mib else None, "limit": None},
        "extendedResources": _extended(pods),
    }
    if version.shows_mig_profiles and one_pod:
        answer["migProfile"] = pods[0].mig_profile if pods else None  # a pod asks for one slice
    elif version.shows_mig_profiles:
        answer["migProfile"] = [p.mig_profile for p in pods if p.mig_profile]
    elif form is GpuForm.MIG:
        answer["gpuRequestType"] = None  # the latest API dropped MIG: a slice shows as what it counts for
    return answer


def allocated(version: ApiVersion, facts: WorkloadFacts) -> dict[str, Any]:
    """What the placed pods hold, each with its own request (a distributed training's master its own)."""
    held = [facts.pod_request(p.index) for p in facts.placement]
    gpu_memory = sum((r.gpu_memory_mib or 0.0) * r.gpu_devices for r in held)
    memory_mib = sum(r.memory_mib for r in held)
    answer: dict[str, Any] = {
        "gpu": allocated_gpus(facts),
        "gpuMemory": mib(gpu_memory) if gpu_memory else None,
        "cpu": sum(r.cpu_millis for r in held) / 1000,
        "cpuMemory": mib(memory_mib) if memory_mib else None,
        "extendedResources": _extended(held),
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

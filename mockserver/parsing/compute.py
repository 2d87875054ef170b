"""The API's `spec.compute` block, read once: its problems (compliance issues naming the field) and the typed
`PodRequest` it asks for. The `gpuRequestType` rules live here and only here on the way in; the views
render a `PodRequest` back.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from mockserver.cluster.errors import ComplianceIssue
from mockserver.cluster.resources import GpuForm, PodRequest
from mockserver.parsing.quantity import parse_quantity, to_mib

# The API's `gpuRequestType` words for the forms that have one (whole devices have none): the one place
# where the words meet the forms, read here and written back by the views.
GPU_REQUEST_TYPES = {GpuForm.PORTION: "portion", GpuForm.MEMORY: "memory", GpuForm.MIG: "migProfile"}
_FORMS = {word: form for form, word in GPU_REQUEST_TYPES.items()}


def gpu_form_of(request_type: Any) -> GpuForm | None:
    """The form a `gpuRequestType` asks for: None when absent (devices, if any, are then whole)."""
    return _FORMS.get(request_type) if isinstance(request_type, str) else None


def pod_request_from_compute(compute: dict[str, Any] | None) -> PodRequest:
    """Only the fields of the selected `gpuRequestType` count; malformed values are ignored, never fatal."""
    if not isinstance(compute, dict):
        return PodRequest()
    devices = _count(compute.get("gpuDevicesRequest"))
    request_type = compute.get("gpuRequestType")
    form = gpu_form_of(request_type)
    gpu: dict[str, Any] = {}
    if form is GpuForm.PORTION:
        portion = _number(compute.get("gpuPortionRequest"))
        count = devices or 1
        if portion is not None and portion >= 1:
            # A full portion is a whole device, which must not be shared with fractions.
            gpu = {"gpus": count}
        elif portion is not None and portion > 0:
            gpu = {"gpu_fraction": portion, "gpu_devices": count}
    elif form is GpuForm.MEMORY:
        memory = _mib(compute.get("gpuMemoryRequest"))
        if memory is not None and memory > 0:
            gpu = {"gpu_memory_mib": memory, "gpu_devices": devices or 1}
    elif form is GpuForm.MIG:
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


def compute_issues(compute: dict[str, Any]) -> list[ComplianceIssue]:
    issues: list[ComplianceIssue] = []

    def add(field: str, details: str) -> None:
        issues.append(ComplianceIssue(f"spec.compute.{field}", details))

    devices = compute.get("gpuDevicesRequest")
    if devices is not None and devices < 0:
        add("gpuDevicesRequest", "must not be negative")
    form = gpu_form_of(compute.get("gpuRequestType"))
    if form is GpuForm.PORTION:
        portion, limit = compute.get("gpuPortionRequest"), compute.get("gpuPortionLimit")
        if portion is None:
            add("gpuPortionRequest", "is required when gpuRequestType is portion")
        elif not 0 < portion <= 1:
            add("gpuPortionRequest", "must be greater than 0 and at most 1")
        elif limit is not None and limit < portion:
            add("gpuPortionLimit", "must not be less than gpuPortionRequest")
    elif form in (GpuForm.MEMORY, GpuForm.MIG) and devices is not None and devices > 1:
        add("gpuRequestType", "only portion may be used with more than one GPU device")
    elif form is GpuForm.MEMORY:
        issues += _quantity_pair(compute, "gpuMemoryRequest", "gpuMemoryLimit", required=True)
    elif form is GpuForm.MIG and not compute.get("migProfile"):
        add("migProfile", "is required when gpuRequestType is migProfile")
    for field in ("cpuCoreRequest", "cpuCoreLimit"):
        if compute.get(field) is not None and compute[field] < 0:
            add(field, "must not be negative")
    request, limit = compute.get("cpuCoreRequest"), compute.get("cpuCoreLimit")
    if request is not None and limit is not None and 0 <= limit < request:
        add("cpuCoreLimit", "must not be less than cpuCoreRequest")
    issues += _quantity_pair(compute, "cpuMemoryRequest", "cpuMemoryLimit", required=False)
    for index, resource in enumerate(compute.get("extendedResources") or []):
        quantity = (resource or {}).get("quantity")
        if quantity is not None:
            issues += _quantity_issues([(f"extendedResources[{index}].quantity", quantity)])
    return issues


def _quantity_pair(
    compute: dict[str, Any], request_field: str, limit_field: str, required: bool
) -> list[ComplianceIssue]:
    request, limit = compute.get(request_field), compute.get(limit_field)
    if request is None:
        if required:
            return [
                ComplianceIssue(f"spec.compute.{request_field}", "is required when gpuRequestType is memory")
            ]
        return _quantity_issues([(limit_field, limit)] if limit is not None else [])
    issues = _quantity_issues(
        [(request_field, request)] + ([(limit_field, limit)] if limit is not None else [])
    )
    if not issues and limit is not None and parse_quantity(limit) < parse_quantity(request):
        issues.append(
            ComplianceIssue(f"spec.compute.{limit_field}", f"must not be less than {request_field}")
        )
    return issues


def _quantity_issues(fields: Iterable[tuple[str, str]]) -> list[ComplianceIssue]:
    issues: list[ComplianceIssue] = []
    for field, text in fields:
        try:
            value = parse_quantity(text)
        except ValueError as error:
            issues.append(ComplianceIssue(f"spec.compute.{field}", str(error)))
            continue
        if value < 0:
            issues.append(ComplianceIssue(f"spec.compute.{field}", "must not be negative"))
    return issues

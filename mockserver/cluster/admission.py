"""Rules a submission must meet beyond its schema: the ones the API states only in prose, and the cluster's own."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from mockserver.cluster.errors import ComplianceIssue, Forbidden, SubmissionRejected
from mockserver.cluster.lifecycle import PRIORITY_CLASSES
from mockserver.cluster.names import name_problem
from mockserver.cluster.quantity import parse_quantity
from mockserver.cluster.topology import Topology

Issues = list[ComplianceIssue]


def admit(
    body: dict[str, Any],
    topology: Topology,
    may_use_project: Callable[[str], bool],
    name_taken: Callable[[str, str], bool],
) -> None:
    """Raise SubmissionRejected listing every problem, or Forbidden when the caller may not use the project."""
    issues: Issues = []
    if body["clusterId"] != topology.cluster_id:
        issues.append(
            ComplianceIssue("clusterId", f"cluster '{body['clusterId']}' is not known to this tenant")
        )
    project_id = body["projectId"]
    if topology.project(project_id) is None:
        issues.append(ComplianceIssue("projectId", f"project '{project_id}' does not exist"))
    elif not may_use_project(project_id):
        raise Forbidden("You do not have sufficient permissions.")
    as_prefix = bool(body.get("useGivenNameAsPrefix"))
    problem = name_problem(body["name"], as_prefix)
    if problem:
        issues.append(ComplianceIssue("name", problem))
    elif not as_prefix and name_taken(project_id, body["name"]):
        issues.append(
            ComplianceIssue("name", f"workload with name '{body['name']}' already exists in this project")
        )
    spec = body.get("spec") or {}
    if not spec.get("image"):
        issues.append(ComplianceIssue("spec.image", "an image is required to create a workload"))
    issues += _spec_issues(spec, topology)
    if issues:
        raise SubmissionRejected(issues)


def _spec_issues(spec: dict[str, Any], topology: Topology) -> Issues:
    issues: Issues = []
    for field in ("completions", "parallelism"):
        if spec.get(field) is not None and spec[field] < 1:
            issues.append(ComplianceIssue(f"spec.{field}", "must be at least 1"))
    for field in ("backoffLimit", "autoDeletionTimeAfterCompletionSeconds"):
        if spec.get(field) is not None and spec[field] < 0:
            issues.append(ComplianceIssue(f"spec.{field}", "must not be negative"))
    priority = spec.get("priorityClass")
    if priority is not None and priority not in PRIORITY_CLASSES:
        issues.append(
            ComplianceIssue("spec.priorityClass", f"priority '{priority}' is not available in this cluster")
        )
    unknown = [p for p in spec.get("nodePools") or [] if p not in topology.node_pools]
    if unknown:
        issues.append(
            ComplianceIssue("spec.nodePools", f"unknown node pool(s): {', '.join(map(str, unknown))}")
        )
    return issues + _compute_issues(spec.get("compute") or {})


def _compute_issues(compute: dict[str, Any]) -> Issues:
    issues: Issues = []

    def add(field: str, details: str) -> None:
        issues.append(ComplianceIssue(f"spec.compute.{field}", details))

    devices = compute.get("gpuDevicesRequest")
    if devices is not None and devices < 0:
        add("gpuDevicesRequest", "must not be negative")
    kind = compute.get("gpuRequestType")
    if kind == "portion":
        portion, limit = compute.get("gpuPortionRequest"), compute.get("gpuPortionLimit")
        if portion is None:
            add("gpuPortionRequest", "is required when gpuRequestType is portion")
        elif not 0 < portion <= 1:
            add("gpuPortionRequest", "must be greater than 0 and at most 1")
        elif limit is not None and limit < portion:
            add("gpuPortionLimit", "must not be less than gpuPortionRequest")
    elif kind in ("memory", "migProfile") and devices is not None and devices > 1:
        add("gpuRequestType", "only portion may be used with more than one GPU device")
    elif kind == "memory":
        issues += _quantity_pair(compute, "gpuMemoryRequest", "gpuMemoryLimit", required=True)
    elif kind == "migProfile" and not compute.get("migProfile"):
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


def _quantity_pair(compute: dict[str, Any], request_field: str, limit_field: str, required: bool) -> Issues:
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


def _quantity_issues(fields: Iterable[tuple[str, str]]) -> Issues:
    issues: Issues = []
    for field, text in fields:
        try:
            value = parse_quantity(text)
        except ValueError as error:
            issues.append(ComplianceIssue(f"spec.compute.{field}", str(error)))
            continue
        if value < 0:
            issues.append(ComplianceIssue(f"spec.compute.{field}", "must not be negative"))
    return issues

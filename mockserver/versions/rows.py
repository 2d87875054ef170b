"""The rows of the versions table: 2.18 (the default, the seed's) and the latest published version.

A new version is one more row: copy the nearest one and change what its official document changes.
"""

from __future__ import annotations

from mockserver.specs import LATEST_SPEC, TRAININGS_SPEC
from mockserver.versions.table import ApiVersion

_ACTIONS = frozenset({"suspend", "resume", "delete"})

# Filter and sort fields of the workloads list, in 2.18 and added later.
_WORKLOAD_FIELDS_218 = frozenset(
    {
        "type",
        "name",
        "clusterId",
        "projectId",
        "projectName",
        "departmentId",
        "departmentName",
        "createdAt",
        "deletedAt",
        "submittedBy",
        "phase",
        "completedAt",
        "nodepool",
        "allocatedGPU",
        "distributedFramework",
    }
)
_WORKLOAD_FIELDS_LATEST = _WORKLOAD_FIELDS_218 | {
    "idleGpus",
    "idleAllocatedGpus",
    "phaseUpdatedAt",
    "category",
    "totalPendingTimeSeconds",
    "totalRunningTimeSeconds",
    "priority",
    "priorityClassName",
    "guaranteedRuntimeEndsAt",
    "aiApplicationId",
    "aiApplicationName",
}
_AVERAGES = frozenset(
    f"avgGpu{what}{span}"
    for what in ("Allocation", "Utilization", "MemoryUtilization")
    for span in ("24h", "7d", "30d")
)

V2_18 = ApiVersion(
    name="2.18",
    spec=TRAININGS_SPEC,
    cluster_version="2.18.0",
    create_status=200,
    delete_status=204,
    actions={"training": _ACTIONS, "workspace": _ACTIONS},
    has_preemptibility=False,
    priority_classes=("build", "train", "interactive-preemptible"),
    default_priority={"Train": "train", "Build": "build"},
    shows_deleted_at=False,
    token_expires_in=False,
    shows_mig_profiles=True,
    workload_details=False,
    cluster_state=False,
    project_phase_field=True,
    org_details=False,
    legacy_node_pools=True,
    search=False,
    events_newest_first=False,
    workload_fields=_WORKLOAD_FIELDS_218,
    project_fields=frozenset({"name", "clusterId", "departmentId", "createdAt"}),
    department_fields=frozenset({"name", "clusterId", "createdAt"}),
)

LATEST = ApiVersion(
    name="latest",
    spec=LATEST_SPEC,
    cluster_version="2.24.0",
    create_status=202,
    delete_status=202,
    actions={"training": _ACTIONS, "workspace": _ACTIONS},
    has_preemptibility=True,
    priority_classes=("very-low", "low", "medium-low", "medium", "medium-high", "high", "very-high"),
    # Training defaults to Low (preemptible), interactive work to High (non-preemptible).
    default_priority={"Train": "low", "Build": "high"},
    shows_deleted_at=True,
    token_expires_in=True,
    shows_mig_profiles=False,
    workload_details=True,
    cluster_state=True,
    project_phase_field=False,
    org_details=True,
    legacy_node_pools=False,
    search=True,
    events_newest_first=True,
    workload_fields=_WORKLOAD_FIELDS_LATEST,
    project_fields=frozenset(
        {
            "name",
            "clusterId",
            "departmentId",
            "parentId",
            "parentName",
            "phase",
            "totalGpuQuota",
            "gpuAllocated",
        }
        | {"createdAt"}
        | _AVERAGES
    ),
    department_fields=frozenset(
        {"name", "clusterId", "totalGpuQuota", "gpuAllocated", "createdAt"} | _AVERAGES
    ),
)

VERSIONS = {row.name: row for row in (V2_18, LATEST)}
DEFAULT_VERSION = V2_18.name

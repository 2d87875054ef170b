"""The rows of the versions table: every release from 2.18 (the default, the seed's) to 2.24 ("latest").

A new version is one more row: copy the nearest one and change what its official document changes. The
rows between 2.18 and latest say, each against the one before, what the official document of that
release changes (docs/versions.md lists those changes; tests/api/test_versions.py holds the field sets to
the documents).
"""

from __future__ import annotations

from dataclasses import replace

from mockserver.specs import LATEST_SPEC, TRAININGS_SPEC, served_contract
from mockserver.versions.table import ApiVersion

_ACTIONS = frozenset({"suspend", "resume", "delete"})
# Distributed trainings can only be deleted until 2.20 brings their suspend and resume.
_DELETE_ONLY = frozenset({"delete"})
# The inferences API has no suspend or resume; PATCH (the spec update) is the version's patch status.
_INFERENCE_ACTIONS = frozenset({"delete"})

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
# Filter and sort fields of the pods list, in 2.18 and added in 2.21.
_POD_FIELDS_218 = frozenset(
    {"clusterId", "nodeName", "currentNodepool", "createdAt", "completedAt", "deletedAt"}
)
_POD_FIELDS_221 = _POD_FIELDS_218 | {"workloadId", "revisionId"}
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
    actions={
        "training": _ACTIONS,
        "workspace": _ACTIONS,
        "distributed": _DELETE_ONLY,
        "inference": _INFERENCE_ACTIONS,
    },
    inference_create_status=200,
    inference_patch_status=None,
    has_preemptibility=False,
    priority_classes=("build", "train", "interactive-preemptible"),
    # Inferences (Deploy) run at the classic dictionary's `inference` class (125, non-preemptible).
    default_priority={"Train": "train", "Build": "build", "Deploy": "inference"},
    shows_deleted_at=False,
    token_expires_in=False,
    shows_mig_profiles=True,
    workload_details=False,
    cluster_state=False,
    project_phase_field=True,
    org_details=False,
    org_resource_priority=False,
    legacy_node_pools=True,
    search=False,
    events_newest_first=False,
    workload_fields=_WORKLOAD_FIELDS_218,
    project_fields=frozenset({"name", "clusterId", "departmentId", "createdAt"}),
    department_fields=frozenset({"name", "clusterId", "createdAt"}),
    pod_fields=_POD_FIELDS_218,
)

LATEST = ApiVersion(
    name="latest",
    spec=LATEST_SPEC,
    cluster_version="2.24.0",
    create_status=202,
    delete_status=202,
    actions={
        "training": _ACTIONS,
        "workspace": _ACTIONS,
        "distributed": _ACTIONS,
        "inference": _INFERENCE_ACTIONS,
    },
    inference_create_status=202,
    inference_patch_status=202,
    has_preemptibility=True,
    priority_classes=("very-low", "low", "medium-low", "medium", "medium-high", "high", "very-high"),
    # Training defaults to Low (preemptible), interactive work to High and inferences (Deploy) to Very
    # high (both non-preemptible).
    default_priority={"Train": "low", "Build": "high", "Deploy": "very-high"},
    shows_deleted_at=True,
    token_expires_in=True,
    shows_mig_profiles=False,
    workload_details=True,
    cluster_state=True,
    project_phase_field=False,
    org_details=True,
    org_resource_priority=True,
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
    pod_fields=_POD_FIELDS_221,
)

# 2.19: the org-unit reads and `/api/v1/node-pools` in their newer shape (org details, node pools no longer
# the /v1/k8s list), workloads with priority, phaseReason, command and pending scheduling messages, and the
# project and department lists' newer filters; a listed project still requires `phase`.
V2_19 = replace(
    V2_18,
    name="2.19",
    spec=served_contract("2.19"),
    cluster_version="2.19.0",
    inference_patch_status=200,
    workload_details=True,
    cluster_state=True,
    org_details=True,
    legacy_node_pools=False,
    project_fields=LATEST.project_fields - {f"avgGpuMemoryUtilization{s}" for s in ("24h", "7d", "30d")},
    department_fields=LATEST.department_fields
    - {f"avgGpuMemoryUtilization{s}" for s in ("24h", "7d", "30d")},
)
# 2.20: distributed trainings' suspend and resume, `search` on the workloads and projects lists, events newest first by default, idle-GPU filters; a
# listed project no longer requires `phase`.
V2_20 = replace(
    V2_19,
    name="2.20",
    spec=served_contract("2.20"),
    cluster_version="2.20.0",
    actions={**V2_19.actions, "distributed": _ACTIONS},
    inference_create_status=202,
    project_phase_field=False,
    org_resource_priority=True,
    search=True,
    events_newest_first=True,
    workload_fields=V2_19.workload_fields | {"idleGpus", "idleAllocatedGpus"},
)
# 2.21: create and delete answer 202 (delete with `{code, message}`), trainings show `deletedAt`.
V2_21 = replace(
    V2_20,
    name="2.21",
    spec=served_contract("2.21"),
    cluster_version="2.21.0",
    create_status=202,
    delete_status=202,
    shows_deleted_at=True,
    workload_fields=V2_20.workload_fields | {"phaseUpdatedAt"},
    pod_fields=_POD_FIELDS_221,
)
# 2.22: the priority classes `very-low` … `very-high` (training Low, interactive High by default), GPU
# memory utilisation averages on the org-unit lists, workloads filtered by category and priority.
V2_22 = replace(
    V2_21,
    name="2.22",
    spec=served_contract("2.22"),
    cluster_version="2.22.0",
    inference_patch_status=202,
    priority_classes=LATEST.priority_classes,
    default_priority=LATEST.default_priority,
    workload_fields=V2_21.workload_fields | {"category", "priority"},
    project_fields=LATEST.project_fields,
    department_fields=LATEST.department_fields,
)
# 2.23: the workloads list's filters as in latest (run times, AI applications, guaranteed runtime).
V2_23 = replace(
    V2_22,
    name="2.23",
    spec=served_contract("2.23"),
    cluster_version="2.23.0",
    workload_fields=_WORKLOAD_FIELDS_LATEST,
)
# 2.24 is latest (`spec.preemptibility`, token `expiresIn`, no MIG profiles), under its own name.
V2_24 = replace(LATEST, name="2.24")

VERSIONS = {row.name: row for row in (V2_18, V2_19, V2_20, V2_21, V2_22, V2_23, V2_24, LATEST)}
DEFAULT_VERSION = V2_18.name

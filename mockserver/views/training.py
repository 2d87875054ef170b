"""A training as the trainings API shows it (`Training1`), and the bodies of its action answers."""

from __future__ import annotations

from typing import Any

from mockserver.cluster.clock import isoformat
from mockserver.cluster.workload import Workload
from mockserver.versions import ACCEPTED, ApiVersion

# Times already written: a training's creation time is shown on every read of it, and trainings created
# at one instant (a manual clock) share it. A full cache starts over.
MAX_CACHED_TIMES = 4096
_iso_times: dict[float, str] = {}


def _iso(timestamp: float) -> str:
    text = _iso_times.get(timestamp)
    if text is None:
        if len(_iso_times) >= MAX_CACHED_TIMES:
            _iso_times.clear()
        text = _iso_times[timestamp] = isoformat(timestamp)
    return text


def training_view(training: Workload, version: ApiVersion) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": training.name,
        "requestedName": training.requested_name,
        "workloadId": training.workload_id,
        "projectId": training.project_id,
        "departmentId": training.department_id,
        "clusterId": training.cluster_id,
        "createdBy": training.created_by,
        "createdAt": _iso(training.created_at),
        "deletedAt": None if training.deleted_at is None else _iso(training.deleted_at),
        "desiredPhase": training.desired_phase.value,
        "actualPhase": training.actual_phase.value,
        "spec": training.request.spec_document,
    }
    if not version.shows_deleted_at:
        del body["deletedAt"]
    return body


def deleted_answer(version: ApiVersion) -> tuple[dict[str, Any] | None, int]:
    """2.18 answers delete with an empty 204, later versions with 202 and a body."""
    return (dict(ACCEPTED) if version.delete_status == 202 else None), version.delete_status

"""A training as the trainings API shows it (`Training1`), and the bodies of its action answers."""

from __future__ import annotations

from typing import Any

from mockserver.cluster.clock import isoformat
from mockserver.cluster.training import Training
from mockserver.versions import ACCEPTED, ApiVersion


def training_view(training: Training, version: ApiVersion) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": training.name,
        "requestedName": training.requested_name,
        "workloadId": training.workload_id,
        "projectId": training.project_id,
        "departmentId": training.department_id,
        "clusterId": training.cluster_id,
        "createdBy": training.created_by,
        "createdAt": isoformat(training.created_at),
        "deletedAt": None if training.deleted_at is None else isoformat(training.deleted_at),
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

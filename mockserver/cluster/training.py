"""A training workload as the fake cluster keeps it, and how the API shows it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mockserver.cluster.clock import isoformat


@dataclass
class Training:
    workload_id: str
    name: str
    requested_name: str
    project_id: str
    department_id: str
    cluster_id: str
    created_by: str
    created_at: float
    spec: dict[str, Any] | None
    # Behaviour resolved at submission from the spec, its annotations and the config.
    duration: float
    outcome: str
    backoff_limit: int
    auto_delete_after: float
    terminate_after_preemption: bool
    # Its place in the scheduler's queue: kept across preemption and resume, as the pod group's creation time is.
    queue_seq: int = 0
    desired_phase: str = "Running"
    actual_phase: str = "Creating"
    phase_since: float = 0.0
    # Bumped by every action that makes pending timers obsolete (suspend, delete, preemption …).
    generation: int = 0
    restarts: int = 0
    pending_reason: str | None = None
    deleted_at: float | None = None

    def to_api(self) -> dict[str, Any]:
        """The `Training1` object of the contracts (an API version may leave fields out)."""
        return {
            "name": self.name,
            "requestedName": self.requested_name,
            "workloadId": self.workload_id,
            "projectId": self.project_id,
            "departmentId": self.department_id,
            "clusterId": self.cluster_id,
            "createdBy": self.created_by,
            "createdAt": isoformat(self.created_at),
            "deletedAt": None if self.deleted_at is None else isoformat(self.deleted_at),
            "desiredPhase": self.desired_phase,
            "actualPhase": self.actual_phase,
            "spec": self.spec,
        }

    def to_snapshot(self) -> dict[str, Any]:
        return {
            "workloadId": self.workload_id,
            "name": self.name,
            "projectId": self.project_id,
            "desiredPhase": self.desired_phase,
            "actualPhase": self.actual_phase,
            "phaseSince": isoformat(self.phase_since),
            "pendingReason": self.pending_reason,
            "restarts": self.restarts,
            "backoffLimit": self.backoff_limit,
        }

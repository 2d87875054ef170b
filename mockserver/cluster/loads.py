"""Non-training work submitted through the control API, to make the scheduler reclaim or preempt."""

from __future__ import annotations

from dataclasses import dataclass

from mockserver.cluster.scheduler import Job


@dataclass
class Load:
    workload_id: str
    name: str
    job: Job
    submitted_at: float
    running: bool = False
    pending_reason: str | None = None

    @property
    def project_id(self) -> str:
        return self.job.project_id

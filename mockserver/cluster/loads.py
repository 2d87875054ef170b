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

    def kind(self) -> tuple[str, str, str]:
        """(type, category, priority class): what the load's priority makes it on Run:ai."""
        if self.job.priority >= 125:
            return "Inference", "Deploy", "inference"
        if not self.job.preemptible:
            return "Workspace", "Build", "build"
        return "Workspace", "Build", "interactive-preemptible"

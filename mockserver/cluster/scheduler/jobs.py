"""The scheduler's view of a training: a gang of identical pods, and what a cycle decides about it."""

from __future__ import annotations

from dataclasses import dataclass, field

from mockserver.cluster.resources import PodRequest


@dataclass
class Job:
    id: str
    project_id: str
    pod: PodRequest
    pods: int
    priority: int
    preemptible: bool
    # Ordered preference; empty means the project's default node pools, else every pool in topology order.
    node_pools: list[str] = field(default_factory=list)
    # Must equal the node label "run.ai/type" when set.
    node_type: str | None = None
    # Submission order, standing in for the creation time that orders jobs and picks the newest victims.
    seq: int = 0


@dataclass
class Eviction:
    job_id: str
    message: str


@dataclass
class CycleResult:
    started: list[str]
    evicted: list[Eviction]
    # Job id -> why it is still pending, in KAI's wording.
    pending: dict[str, str]

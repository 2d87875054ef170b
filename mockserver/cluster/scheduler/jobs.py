"""The scheduler's view of a training: `pods` identical pods, each scheduled on its own (as KAI schedules the
pods of an HPO job), and what a cycle decides about them."""

from __future__ import annotations

from dataclasses import dataclass, field

from mockserver.cluster.resources import PodRequest


@dataclass
class Job:
    id: str
    project_id: str
    pod: PodRequest
    # How many pods the job asks for (`parallelism`); each is placed, or waits, independently.
    pods: int
    priority: int
    preemptible: bool
    # Ordered preference; empty means the project's default node pools, else every pool in topology order.
    node_pools: list[str] = field(default_factory=list)
    # Must equal the node label "run.ai/type" when set.
    node_type: str | None = None
    # Submission order, standing in for the creation time that orders jobs and picks the newest victims.
    seq: int = 0


@dataclass(frozen=True)
class DeviceShare:
    """One GPU device a pod holds: its index on the node and the share of it (1.0 for a whole device)."""

    index: int
    fraction: float


@dataclass(frozen=True)
class PlacedPod:
    """Where one running pod of a job sits. `index` numbers the job's pods from 0."""

    job_id: str
    index: int
    node: str
    pool: str
    devices: tuple[DeviceShare, ...]
    mig_profile: str | None

    def to_dict(self) -> dict[str, object]:
        """The control API's form of a pod (snapshot, events)."""
        return {
            "node": self.node,
            "pool": self.pool,
            "devices": [{"index": d.index, "fraction": d.fraction} for d in self.devices],
            "migProfile": self.mig_profile,
        }


@dataclass
class Eviction:
    job_id: str
    message: str


@dataclass
class CycleResult:
    # Jobs whose first pod started in this cycle (they had none running before it).
    started: list[str]
    # Jobs that lost their last running pod; they leave the scheduler, pending pods included. A job that
    # keeps other pods running gets an evicted pod back as pending instead, and is not listed.
    evicted: list[Eviction]
    # Jobs with no pod running -> why, in KAI's wording: only those whose reason is new or changed since
    # the previous cycle (a deep queue costs nothing when nothing about it changed).
    pending: dict[str, str]
    # Pod by pod, for workload controllers that follow each pod (the engine's Job controller): every pod
    # placed in this cycle as (job id, pod index), and every pod evicted from a job that keeps others
    # running (pending again in the scheduler under the same index).
    bound: list[tuple[str, int]] = field(default_factory=list)
    lost: list[tuple[str, int, str]] = field(default_factory=list)

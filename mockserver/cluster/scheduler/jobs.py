"""The scheduler's view of a workload: `pods` pods, each scheduled on its own (as KAI schedules the pods of
an HPO job) unless the job is a gang, and what a cycle decides about them."""

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
    # A gang (KAI's pod group `minMember`, a distributed training): at least this many pods start together
    # or none does, and a gang left with fewer running is evicted whole. 0: no gang, pods are independent.
    min_pods: int = 0
    # Pod 0's request when it differs from the others' (a distributed training's master).
    lead: PodRequest | None = None

    def pod_at(self, index: int) -> PodRequest:
        """What pod `index` asks for: the lead's request for pod 0 when the job has one."""
        return self.lead if index == 0 and self.lead is not None else self.pod


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
    # Pods consolidation moved to another node as (job id, pod index, message): the pod is deleted and its
    # replacement bound at once to the new node (listed in `bound` too).
    moved: list[tuple[str, int, str]] = field(default_factory=list)
    # Pods placed on what their victims still release, as (job id, pod index, node, victims' job ids):
    # they wait until the caller says the victims are gone (`Scheduler.unpipeline`), and are then listed
    # in `bound` (and their job in `started`) by the next cycle.
    pipelined: list[tuple[str, int, str, list[str]]] = field(default_factory=list)

"""A workload as the fake cluster keeps it, whatever its kind: the kind's description says how it behaves."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from mockserver.cluster.phases import DesiredPhase, Phase
from mockserver.cluster.pods import JobPods, Pod
from mockserver.cluster.reasons import ReasonCode
from mockserver.cluster.request import WorkloadRequest

if TYPE_CHECKING:  # a kind's description names lifecycle rows that are typed on this record
    from mockserver.cluster.kinds.base import WorkloadKind


@dataclass(frozen=True)
class PhaseChange:
    time: float
    phase: Phase
    reason: str
    codes: tuple[ReasonCode, ...] = ()


@dataclass(frozen=True)
class Attempt:
    """How each run of the workload's container goes: seconds until it ends, and whether it succeeds."""

    seconds: float
    succeeds: bool


@dataclass
class Workload:
    workload_id: str
    name: str
    kind: WorkloadKind
    request: WorkloadRequest
    department_id: str
    created_by: str
    created_at: float
    attempt: Attempt
    priority: int
    preemptible: bool
    # Its place in the scheduler's queue: kept across preemption and resume, as the pod group's creation time is.
    queue_seq: int = 0
    desired_phase: DesiredPhase = DesiredPhase.RUNNING
    actual_phase: Phase = Phase.CREATING
    phase_since: float = 0.0
    # Bumped by every transition, so that timers set for an earlier phase fire into nothing.
    generation: int = 0
    restarts: int = 0
    pending_reason: str | None = None
    # The last thing that happened to it that a user wants to read (preemption, crash …).
    phase_message: str | None = None
    deleted_at: float | None = None
    history: list[PhaseChange] = field(default_factory=list)
    # Its pods, one by one, as its Kubernetes controller keeps them (kinds that run a container).
    job: JobPods = field(default_factory=JobPods)

    @property
    def project_id(self) -> str:
        return self.request.project_id

    @property
    def cluster_id(self) -> str:
        return self.request.cluster_id

    @property
    def requested_name(self) -> str:
        return self.request.name

    def state_key(self) -> tuple[Any, ...]:
        """Everything of this workload's state, as values: two keys are equal only if nothing of it changed
        in between (a list page keeps a row rendered from a workload on it). Its own fields, its phase
        history, its Job's fields and each pod's fields, read as they are now; every other field holds a
        value nothing changes in place (the request, the attempt and the kind are frozen; the placement is
        the scheduler's, not part of this record). tests/scale/test_rendered_rows.py checks that the
        fields' types keep it so."""
        job = self.job
        return (_OWN(self), tuple(self.history), _JOB(job), tuple(map(_POD, job.pods)))


# The fields a key reads, named once from the classes (fields left out of comparison are caches).
_OWN = attrgetter(*(f.name for f in fields(Workload) if f.compare and f.name not in ("history", "job")))
_JOB = attrgetter(*(f.name for f in fields(JobPods) if f.compare and f.name != "pods"))
_POD = attrgetter(*(f.name for f in fields(Pod) if f.compare))

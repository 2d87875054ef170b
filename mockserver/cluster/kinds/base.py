"""The description of a workload kind: everything about a kind that the engine, the scheduler feed and
the views need, so that none of them asks which kind a workload is."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from mockserver.cluster.events import EventKind
from mockserver.cluster.lifecycle import Effect, Timed, Transition, Trigger
from mockserver.cluster.phases import Phase


@dataclass(frozen=True)
class PodRole:
    """One role of a kind's pods. `replicated`: the request's pod count applies (parallelism, replicas);
    otherwise the role has exactly one pod."""

    name: str
    replicated: bool = True


class PodCounts(Enum):
    """What the workloads API's `requestedPods` says of a kind besides `number` (its pods in all)."""

    # One pod, or pods that neither scale nor form a Job: the number alone.
    NUMBER = "number"
    # A Kubernetes Job's `parallelism` and `completions` (trainings).
    JOB = "job"
    # `min` and `max`: the bounds of the replicated pods as asked, plus the single-pod roles' pods (a
    # distributed training's master with its elastic workers; an inference's autoscaling replicas).
    BOUNDS = "bounds"


@dataclass(frozen=True)
class RequestedPods:
    """A workload's `requestedPods`; None where its kind has no such count."""

    number: int
    min: int | None = None
    max: int | None = None
    parallelism: int | None = None
    completions: int | None = None


@dataclass(frozen=True)
class KindEvents:
    """What the event log says about a workload of this kind. Messages are formats over `name`, `project`,
    `by` (the submitter) and `why` (the trigger's reason)."""

    submitted: tuple[EventKind, str]
    removed: tuple[EventKind, str]
    # Extra events on a trigger, besides the phase change (loads, which log no phases, say they started).
    on_trigger: Mapping[Trigger, tuple[EventKind, str]] = field(default_factory=dict)
    # Log each phase change, and each new pending reason.
    phases: bool = True
    pending: bool = True


@dataclass(frozen=True, eq=False)  # a kind is itself: compared and hashed by identity
class WorkloadKind:
    """A kind of workload. `name` is the domain's word ("training"); `type_name` and `category` are what
    the workloads API shows (`type`, `category`); a version's defaults are looked up by category."""

    name: str
    type_name: str
    category: str
    pod_roles: tuple[PodRole, ...]
    # The lifecycle: transitions (first match wins) and how long timed phases last.
    transitions: tuple[Transition, ...]
    timed: Mapping[Phase, Timed]
    # Triggers a client may send through the kind's API (suspend, resume, delete).
    client_actions: frozenset[Trigger]
    events: KindEvents
    # Where a new workload starts, and what happens as it arrives there.
    start: Phase = Phase.CREATING
    on_submit: tuple[Effect, ...] = ()
    # Its container runs an attempt (command, annotations, forced outcomes); a load just holds its place.
    runs_container: bool = True
    # Its pods are a Kubernetes Job's (trainings, workspaces) or a training operator's (distributed):
    # the Job controller (`cluster/jobcontroller.py`) keeps them one by one and the workload's phase
    # follows them. Serving replicas (inferences) and loads are the scheduler's pods only.
    job_pods: bool = True
    # Kept listable as deleted for the retention after removal.
    retained: bool = True
    # Its name is unique in its project, among every kind whose names are (Run:ai workloads); loads are
    # named freely.
    unique_names: bool = True
    # The pods start together or none does, and a workload left with fewer than its minimum running is
    # evicted whole (KAI's gang scheduling and stale-gang eviction; the scheduler's `Job.min_pods`).
    gang: bool = False
    # Interactive kinds (workspaces) default to a non-preemptible priority class of their version.
    interactive: bool = False
    # What its `requestedPods` shows besides the number of pods.
    pod_counts: PodCounts = PodCounts.NUMBER

    @functools.cached_property
    def action_names(self) -> frozenset[str]:
        """`client_actions` as the API's words (the facts of every workload read show them)."""
        return frozenset(trigger.value for trigger in self.client_actions)

    def pods(self, requested: int) -> int:
        """How many pods a request for `requested` replicas makes."""
        return sum(requested if role.replicated else 1 for role in self.pod_roles)

    def requested_pods(
        self,
        requested: int,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
        completions: int | None = None,
    ) -> RequestedPods:
        """The `requestedPods` of a request for `requested` replicas, bounded by `minimum`/`maximum`
        replicas (None: exactly `requested`) and finishing after `completions` pods (None: one each)."""
        number = self.pods(requested)
        if self.pod_counts is PodCounts.JOB:
            return RequestedPods(number, parallelism=number, completions=completions or number)
        if self.pod_counts is PodCounts.BOUNDS:
            single = number - requested  # the single-pod roles' pods (a distributed training's master)
            low = requested if minimum is None else min(minimum, requested)
            high = requested if maximum is None else max(maximum, requested)
            return RequestedPods(number, min=single + low, max=single + high)
        return RequestedPods(number)

    def gang_minimum(self, requested: int, minimum: int | None) -> int:
        """How many pods must start together (0: the kind is no gang): every single-pod role's pod and
        `minimum` of the replicated ones (all `requested` when no minimum is given)."""
        if not self.gang:
            return 0
        replicas = requested if minimum is None else max(0, min(minimum, requested))
        return sum(replicas if role.replicated else 1 for role in self.pod_roles)

    def role_of(self, index: int, requested: int) -> str:
        """The role of pod `index` (pods are numbered role by role, in the order the roles are listed)."""
        for role in self.pod_roles:
            count = requested if role.replicated else 1
            if index < count:
                return role.name
            index -= count
        return self.pod_roles[-1].name

    def pod_name(self, workload: str, index: int, requested: int) -> str:
        """What Kubernetes calls pod `index`: `<name>-<role>-<n>` for kinds with several roles (the
        training operator's names, as Run:ai shows a distributed training's pods), else `<name>-0-<n>`."""
        if len(self.pod_roles) == 1:
            return f"{workload}-0-{index}"
        role = self.role_of(index, requested)
        first = 0
        for other in self.pod_roles:
            if other.name == role:
                break
            first += requested if other.replicated else 1
        return f"{workload}-{role}-{index - first}"

    def job_pod_name(self, workload: str, slot: int, serial: int, requested: int) -> str:
        """What Kubernetes calls a Job controller's pod: with several roles, by role and replica index
        (the training operator gives a replacement the name of the pod it replaces); a plain Job's pods
        are numbered as they are made, so a replacement is a new name."""
        return self.pod_name(workload, slot if len(self.pod_roles) > 1 else serial, requested)

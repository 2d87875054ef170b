"""The pods of a workload as its Kubernetes controller keeps them: each pod's own phase, container state,
node and exit, and the Job's counts (`succeeded`, `failed`) that decide when the workload is done.

A kind's workload is a Kubernetes Job underneath (Run:ai trainings and workspaces are): it runs
`min(parallelism, completions - succeeded)` pods at a time until `completions` pods have succeeded
(https://kubernetes.io/docs/concepts/workloads/controllers/job/#parallel-jobs). The engine's Job
controller (`jobcontroller.py`) moves these records; the views read them.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from enum import Enum
from itertools import islice

from mockserver.cluster.scheduler import PlacedPod

# Finished pods kept per workload (Kubernetes keeps them all until the Job goes; a crash loop of a
# thousand restarts would otherwise grow without bound). The oldest finished pods go first.
MAX_FINISHED_PODS = 200


class PodPhase(str, Enum):
    """A pod's place in its life. `STARTING` is Kubernetes' Pending phase after binding (image pull,
    container creation); the views show it as `Pending` with the kubelet's waiting reason."""

    PENDING = "Pending"  # not bound to a node yet
    STARTING = "Starting"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"

    def __str__(self) -> str:
        return self.value


ACTIVE_PODS = frozenset({PodPhase.PENDING, PodPhase.STARTING, PodPhase.RUNNING})


class RestartPolicy(str, Enum):
    """The pod template's `restartPolicy`. A Job's pods are `Never` or `OnFailure`; Run:ai lets the API
    say `Always` too, which the fake treats as `OnFailure` for a container that fails."""

    NEVER = "Never"
    ON_FAILURE = "OnFailure"
    ALWAYS = "Always"

    @property
    def restarts_in_place(self) -> bool:
        return self is not RestartPolicy.NEVER


@dataclass
class Pod:
    """One pod of a workload. `slot` is its index in the scheduler's job; `serial` numbers the pods the
    workload ever had (the pod's name suffix), so a replacement is a new pod with a new name."""

    serial: int
    slot: int
    created_at: float
    phase: PodPhase = PodPhase.PENDING
    since: float = 0.0
    # Bumped on every change of the pod: its timers carry the generation they were set for.
    generation: int = 0
    # Container restarts in this pod (restartPolicy OnFailure).
    restarts: int = 0
    placed: PlacedPod | None = None
    started_at: float | None = None
    finished_at: float | None = None
    exit_code: int | None = None
    # The kubelet's reason for the container's state: ErrImagePull, ImagePullBackOff,
    # CreateContainerConfigError, CrashLoopBackOff while waiting; Completed or Error once terminated.
    reason: str | None = None
    message: str | None = None
    # Made to replace a pod evicted from a workload that kept running: until it runs, the workload is
    # Degraded (a gang's elastic extras that never ran are not lost pods).
    replacement: bool = False

    @property
    def active(self) -> bool:
        return self.phase in ACTIVE_PODS

    def __copy__(self) -> Pod:
        # What copy.copy makes, without its generic path (__reduce_ex__): the facts of every workload read
        # copy each of its pods, and that path was a quarter of reading them.
        clone = Pod.__new__(Pod)
        clone.__dict__.update(self.__dict__)
        return clone


@dataclass
class JobPods:
    """The Job controller's state of one workload: its pods, old and current, and the counts."""

    parallelism: int = 1
    completions: int = 1
    succeeded: int = 0
    failed: int = 0
    pods: list[Pod] = field(default_factory=list)
    next_serial: int = 0
    # Bumped when the workload gives all its pods up (suspended, preempted, failed, deleted): a
    # replacement timer of an earlier epoch fires into nothing.
    epoch: int = 0
    # No replacement pod before this time (the Job controller's back-off after a failed pod).
    backoff_until: float = 0.0
    # A gang's minimum (KAI's `minMember`; 0: no gang): the pods that must be bound, then running, for
    # the workload to be scheduled, then Running; its elastic extras may still wait.
    minimum: int = 0
    # The active pods, kept between changes of the list: a 1,000-pod job asks for them at every pod
    # event. A pod leaves the active set only by finishing (then `trim` runs) or by leaving the list.
    _active: list[Pod] | None = field(default=None, init=False, repr=False, compare=False)
    # The first active pod of each slot, rebuilt from `_active` when asked for after a change.
    _slots: dict[int, Pod] | None = field(default=None, init=False, repr=False, compare=False)

    def active(self) -> list[Pod]:
        return list(self._kept_active())

    def active_count(self) -> int:
        return len(self._kept_active())

    def _kept_active(self) -> list[Pod]:
        """The cached active pods themselves, for this class's own reads (no copy per pod event)."""
        if self._active is None:
            self._active = [p for p in self.pods if p.active]
        return self._active

    def changed(self) -> None:
        """The list of pods, or a pod's being active, changed: forget the active set."""
        self._active = None
        self._slots = None

    def by_serial(self, serial: int) -> Pod | None:
        """The pod with this serial (the list is in serial order: found by bisection)."""
        pods = self.pods
        at = bisect.bisect_left(pods, serial, key=_serial)
        if at < len(pods) and pods[at].serial == serial:
            return pods[at]
        return next((p for p in pods if p.serial == serial), None)

    def wanted(self) -> int:
        """How many more pods the controller must create now (Kubernetes' Job rule)."""
        return max(0, min(self.parallelism, self.completions - self.succeeded) - len(self._kept_active()))

    def by_slot(self, slot: int) -> Pod | None:
        slots = self._slots
        if slots is None:
            slots = {}
            for pod in self._kept_active():
                slots.setdefault(pod.slot, pod)
            self._slots = slots
        return slots.get(slot)

    def new_pod(self, slot: int, now: float) -> Pod:
        pod = Pod(self.next_serial, slot, now, since=now)
        self.next_serial += 1
        self.pods.append(pod)
        self.changed()
        return pod

    def drop_active(self) -> None:
        """Every active pod goes (deleted with its workload's resources); finished pods stay listed."""
        self.pods = [p for p in self.pods if not p.active]
        self.epoch += 1
        self.changed()

    def trim(self, finished: Pod | None = None) -> None:
        """After a pod finished (`finished`, when one did): it is no longer active, and the oldest finished
        pods beyond the cap go. Done in place, without a pass over every pod: a 1,000-pod job's pods
        finish one by one."""
        active = self._active
        if finished is None or active is None:
            self.changed()
        else:
            at = bisect.bisect_left(active, finished.serial, key=_serial)
            if at < len(active) and active[at] is finished:
                del active[at]
                if self._slots is not None and self._slots.get(finished.slot) is finished:
                    self._slots = None
            else:
                self.changed()
        over = len(self.pods) - len(self._kept_active()) - MAX_FINISHED_PODS
        if over > 0:
            pods = self.pods  # in serial order: the oldest finished pods are the first ones
            oldest = list(islice((i for i, p in enumerate(pods) if not p.active), over))
            for i in reversed(oldest):
                del pods[i]

    def all_bound(self) -> bool:
        active = self._kept_active()
        if self.minimum:
            return sum(1 for p in active if p.phase is not PodPhase.PENDING) + self.succeeded >= self.minimum
        # Newest first: pods are bound and started in serial order, so a pod still waiting is most likely
        # among the last (asked at every pod event, this stays short until the answer is yes).
        return bool(active) and all(p.phase is not PodPhase.PENDING for p in reversed(active))

    def all_running(self) -> bool:
        active = self._kept_active()
        if self.minimum:  # the bound pods all run, they make the minimum, and no lost pod waits
            bound = [p for p in active if p.phase is not PodPhase.PENDING]
            return (
                self.all_bound()
                and all(p.phase is PodPhase.RUNNING and p.reason is None for p in bound)
                and not any(p.replacement and p.phase is PodPhase.PENDING for p in active)
            )
        return bool(active) and all(
            p.phase is PodPhase.RUNNING and p.reason is None for p in reversed(active)
        )


def _serial(pod: Pod) -> int:
    return pod.serial

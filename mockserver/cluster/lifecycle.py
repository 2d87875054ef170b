"""How a workload moves between phases: tables of transitions, as data (KWOK's stages).

A transition fires on a trigger — time passing in a phase, the scheduler, the container, a client — when
the training is in one of its source phases and its guard holds; it applies its effects and enters its
target phase. The first matching row wins. A trigger that matches no row changes nothing, which is how
the API's documented no-ops (suspending a stopped training …) come about.

`TRANSITIONS` and `TIMED` are the table of the kinds that run a container (trainings, workspaces); a kind
names its table in its description (`cluster/kinds/`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from mockserver.cluster.phases import ACTIVE, HOLDING, TERMINAL, DesiredPhase, Phase
from mockserver.cluster.timing import Timing

if TYPE_CHECKING:  # the workload record names its kind, whose table is made of these rows
    from mockserver.cluster.workload import Workload


class Trigger(str, Enum):
    ELAPSED = "elapsed"  # the phase's time is up
    BACKOFF_ELAPSED = "backoff-elapsed"  # a failed pod's replacement may be scheduled
    SCHEDULED = "scheduled"  # the scheduler placed the training's pods
    SUCCEEDED = "succeeded"  # the container exited 0
    CRASHED = "crashed"  # the container exited non-zero
    EVICTED = "evicted"  # reclaimed or preempted by the scheduler
    FAILED = "failed"  # failed as a whole (backoffLimit passed, a pod that cannot start, the control API)
    POD_LOST = "pod-lost"  # a running workload lost one of its pods (evicted, or failed and replaced)
    PODS_RUNNING = "pods-running"  # every pod of the workload runs
    SUSPEND = "suspend"
    RESUME = "resume"
    DELETE = "delete"
    UPDATE = "update"  # a client changed the spec (an inference's PATCH)


# Triggers a client sends; every other trigger happens by itself.
CLIENT_TRIGGERS = frozenset({Trigger.SUSPEND, Trigger.RESUME, Trigger.DELETE})


class Effect(Enum):
    RELEASE = "release"  # give the devices back / leave the scheduler's queue
    ENQUEUE = "enqueue"  # wait in the scheduler's queue
    REQUEUE = "requeue"  # back in the queue after an eviction; the evicting cycle runs on anyway
    COUNT_RESTART = "count-restart"
    BACK_OFF = "back-off"  # wait before the replacement pod is scheduled
    DESIRE_STOPPED = "desire-stopped"
    DESIRE_RUNNING = "desire-running"
    MARK_DELETED = "mark-deleted"
    REMOVE = "remove"  # gone from its kind's API; listed as deleted for the retention where the kind says


class Guard(Enum):
    ALWAYS = "always"
    RESTARTS_LEFT = "restarts-left"
    TERMINATE_AFTER_PREEMPTION = "terminate-after-preemption"
    DESIRED_RUNNING = "desired-running"
    DESIRED_STOPPED = "desired-stopped"
    NOT_DELETED = "not-deleted"


_GUARDS: dict[Guard, Callable[[Workload], bool]] = {
    Guard.ALWAYS: lambda t: True,
    Guard.RESTARTS_LEFT: lambda t: t.restarts < t.request.backoff_limit,
    Guard.TERMINATE_AFTER_PREEMPTION: lambda t: t.request.terminate_after_preemption,
    Guard.DESIRED_RUNNING: lambda t: t.desired_phase is DesiredPhase.RUNNING,
    Guard.DESIRED_STOPPED: lambda t: t.desired_phase is DesiredPhase.STOPPED,
    Guard.NOT_DELETED: lambda t: t.desired_phase is not DesiredPhase.DELETED,
}


@dataclass(frozen=True)
class Transition:
    source: frozenset[Phase]
    trigger: Trigger
    target: Phase | None  # None: the phase stays; only the effects apply
    effects: tuple[Effect, ...] = ()
    guard: Guard = Guard.ALWAYS


def _t(
    source: Phase | frozenset[Phase],
    trigger: Trigger,
    target: Phase | None,
    *effects: Effect,
    guard: Guard = Guard.ALWAYS,
) -> Transition:
    return Transition(
        frozenset({source}) if isinstance(source, Phase) else source, trigger, target, effects, guard
    )


P, T, E, G = Phase, Trigger, Effect, Guard
EVERY_PHASE = frozenset(Phase)

TRANSITIONS: tuple[Transition, ...] = (
    # Time passes.
    _t(P.CREATING, T.ELAPSED, P.PENDING, E.ENQUEUE),
    _t(P.STOPPING, T.ELAPSED, P.RESUMING, guard=G.DESIRED_RUNNING),  # resumed while stopping
    _t(P.STOPPING, T.ELAPSED, P.STOPPED),
    _t(frozenset({P.RESUMING, P.TERMINATING}), T.ELAPSED, P.PENDING, E.ENQUEUE),
    _t(TERMINAL, T.ELAPSED, P.DELETING, E.MARK_DELETED),  # autoDeletionTimeAfterCompletionSeconds
    _t(P.DELETING, T.ELAPSED, None, E.REMOVE),
    _t(P.PENDING, T.BACKOFF_ELAPSED, None, E.ENQUEUE),
    # The scheduler and the container.
    # The pods (jobcontroller.py): scheduled once all are bound, Running once all run, Degraded when a
    # running workload loses one, Completed once `completions` pods succeeded.
    _t(P.PENDING, T.SCHEDULED, P.INITIALIZING),
    _t(frozenset({P.INITIALIZING, P.DEGRADED}), T.PODS_RUNNING, P.RUNNING),
    _t(P.RUNNING, T.POD_LOST, P.DEGRADED),
    _t(frozenset({P.RUNNING, P.DEGRADED}), T.SUCCEEDED, P.COMPLETED, E.RELEASE),
    _t(HOLDING, T.CRASHED, P.PENDING, E.RELEASE, E.COUNT_RESTART, E.BACK_OFF, guard=G.RESTARTS_LEFT),
    _t(HOLDING, T.CRASHED, P.FAILED, E.RELEASE, E.COUNT_RESTART),
    _t(HOLDING, T.EVICTED, P.FAILED, E.RELEASE, guard=G.TERMINATE_AFTER_PREEMPTION),
    _t(HOLDING, T.EVICTED, P.TERMINATING, E.RELEASE),
    _t(ACTIVE, T.FAILED, P.FAILED, E.RELEASE),
    # Clients.
    _t(ACTIVE, T.SUSPEND, P.STOPPING, E.DESIRE_STOPPED, E.RELEASE, guard=G.NOT_DELETED),
    _t(P.STOPPED, T.RESUME, P.RESUMING, E.DESIRE_RUNNING, guard=G.DESIRED_STOPPED),
    _t(P.STOPPING, T.RESUME, None, E.DESIRE_RUNNING, guard=G.DESIRED_STOPPED),
    _t(P.STOPPING, T.SUSPEND, None, E.DESIRE_STOPPED, guard=G.DESIRED_RUNNING),  # suspended again meanwhile
    _t(EVERY_PHASE - {P.DELETING}, T.DELETE, P.DELETING, E.MARK_DELETED, E.RELEASE, guard=G.NOT_DELETED),
)


def transition_for(workload: Workload, trigger: Trigger) -> Transition | None:
    return next(
        (
            row
            for row in workload.kind.transitions
            if row.trigger is trigger and workload.actual_phase in row.source and _GUARDS[row.guard](workload)
        ),
        None,
    )


# How long a phase lasts before time moves the training on, and which trigger then fires (None: the
# container's attempt decides between SUCCEEDED and CRASHED).
Delay = Callable[["Workload", Timing], float]
Timed = tuple[Delay, Trigger | None]
TIMED: dict[Phase, Timed] = {
    P.CREATING: (lambda t, timing: timing.creating, T.ELAPSED),
    # Initializing and Running last as long as the pods say (jobcontroller.py times each pod).
    P.STOPPING: (lambda t, timing: _graceful(t, timing.stopping), T.ELAPSED),
    P.RESUMING: (lambda t, timing: timing.resuming, T.ELAPSED),
    P.TERMINATING: (lambda t, timing: termination_time(t, timing), T.ELAPSED),
    P.COMPLETED: (lambda t, timing: t.request.auto_delete_after, T.ELAPSED),
    P.FAILED: (lambda t, timing: t.request.auto_delete_after, T.ELAPSED),
    P.DELETING: (lambda t, timing: _graceful(t, timing.deleting), T.ELAPSED),
}


def termination_time(workload: Workload, timing: Timing) -> float:
    """How long the workload's pods take to stop once evicted (Terminating)."""
    return _graceful(workload, timing.terminating)


def _graceful(workload: Workload, seconds: float) -> float:
    """Pods stop within their grace period (terminationGracePeriodSeconds, where the version has it):
    killed at its end if their container has not stopped by then (Kubernetes' pod termination)."""
    grace = workload.request.grace_period
    return seconds if grace is None else min(seconds, grace)


# Guards that hold only because of an earlier client action: their rows finish what the action began.
_ACTION_GUARDS = frozenset({Guard.DESIRED_RUNNING, Guard.DESIRED_STOPPED})


def spontaneous_moves(table: tuple[Transition, ...] = TRANSITIONS) -> set[tuple[Phase, Phase]]:
    """Every (from, to) phase change that happens without a client's action, in `table` (a kind's)."""
    return {
        (source, row.target)
        for row in table
        if row.trigger not in CLIENT_TRIGGERS and row.target is not None and row.guard not in _ACTION_GUARDS
        for source in row.source
    }

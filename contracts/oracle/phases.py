"""The training phase machine as the harness judges it: the one table of legal `actualPhase` transitions.

A client never sees every phase: it polls, and a real cluster can pass Pending or Initializing between
two polls. So an observed pair (before, after) is legal when `after` can be *reached* from `before` by
steps the cluster takes on its own, interleaved with the steps that the actions sent in between allow.
What stays illegal is what no amount of time explains: a terminal phase coming back to life, a suspended
training running again without a resume, Deleting turning into anything but gone.

Sources: the fake's stages (Creating 1 s → Pending → Initializing 2 s → Running …), the Run:ai docs'
phase table (Degraded from Pending/Running, back to Running or on to Completed/Failed), and the legacy
job statuses (Terminating = evicted by preemption, then Pending again).

The cluster moves a training on its own, too, and those moves are legal: auto-deletion
(autoDeletionTimeAfterCompletionSeconds: Completed/Failed -> Deleting -> gone, desiredPhase Deleted),
preemption (Running -> Terminating -> Pending), eviction and node loss (Running or Degraded back to
Pending), a Job whose pods are not all up (Degraded) and containers that fail while starting
(Initializing -> Pending/Failed/Degraded).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import Enum

PHASES = (
    "Creating",
    "Initializing",
    "Resuming",
    "Pending",
    "Deleting",
    "Running",
    "Updating",
    "Stopped",
    "Stopping",
    "Degraded",
    "Failed",
    "Completed",
    "Terminating",
    "Unknown",
)
TERMINAL = frozenset({"Completed", "Failed"})
# What a create answer, or the first read after it, may show.
INITIAL = frozenset({"Creating", "Pending"})
# The cluster lost track (e.g. unreachable): may appear anywhere and says nothing, so a pair is judged
# from the last phase that was known.
UNKNOWN = "Unknown"


class Action(str, Enum):
    SUSPEND = "suspend"
    RESUME = "resume"
    DELETE = "delete"


# Steps the cluster takes on its own: timers, the scheduler, containers ending or crashing, preemption.
SPONTANEOUS: dict[str, frozenset[str]] = {
    "Creating": frozenset({"Pending", "Failed"}),
    "Pending": frozenset({"Initializing", "Degraded"}),
    # A container that crashes while starting is restarted (or, out of retries, the training fails).
    "Initializing": frozenset({"Running", "Failed", "Pending", "Degraded"}),
    # Evicted, or its node lost: the pod is re-queued (Pending) or restarted (Initializing).
    "Running": frozenset(
        {"Completed", "Failed", "Initializing", "Terminating", "Degraded", "Updating", "Pending"}
    ),
    "Degraded": frozenset({"Running", "Completed", "Failed", "Pending", "Initializing", "Terminating"}),
    "Updating": frozenset({"Running", "Degraded", "Failed"}),
    # Preempted: re-queued, or ended when the spec says terminateAfterPreemption.
    "Terminating": frozenset({"Pending", "Failed"}),
    "Resuming": frozenset({"Pending"}),
    "Stopping": frozenset({"Stopped"}),
    "Stopped": frozenset(),
    "Deleting": frozenset(),
    # autoDeletionTimeAfterCompletionSeconds: a finished training is deleted by itself.
    "Completed": frozenset({"Deleting"}),
    "Failed": frozenset({"Deleting"}),
}

# Steps an action allows, from the phases it applies to. A phase an action does not list ignores it
# (the API answers 202 and nothing changes), which the contract allows.
_STOPPABLE = (
    "Creating",
    "Pending",
    "Initializing",
    "Running",
    "Degraded",
    "Updating",
    "Resuming",
    "Terminating",
)
ACTION_STEPS: dict[Action, dict[str, str]] = {
    Action.SUSPEND: {phase: "Stopping" for phase in _STOPPABLE},
    Action.RESUME: {"Stopped": "Resuming"},
    Action.DELETE: {phase: "Deleting" for phase in PHASES if phase not in {"Deleting", UNKNOWN}},
}

# What desiredPhase says once an action took effect.
DESIRED_AFTER = {Action.SUSPEND: "Stopped", Action.RESUME: "Running", Action.DELETE: "Deleted"}
# Read phases that are consistent with the action having been a no-op (suspending a finished training,
# resuming one that was not Stopped yet), so the previous desiredPhase may still stand.
_NOOP_EVIDENCE = {
    Action.SUSPEND: TERMINAL | {UNKNOWN},
    Action.RESUME: TERMINAL | {UNKNOWN, "Stopping", "Stopped"},
    Action.DELETE: frozenset(),
}


def _closure(phases: Iterable[str]) -> set[str]:
    seen = set(phases)
    frontier = list(seen)
    while frontier:
        for successor in SPONTANEOUS.get(frontier.pop(), ()):
            if successor not in seen:
                seen.add(successor)
                frontier.append(successor)
    return seen


def reachable(start: str, actions: Sequence[Action] = ()) -> frozenset[str]:
    """Every phase a training in `start` may show after some time and the given actions, in order."""
    phases = _closure({start})
    for action in actions:
        # The training may have moved on before the action arrived (hence the closure first); where the
        # action applies it certainly took effect, so those phases are replaced, not kept.
        steps = ACTION_STEPS[action]
        phases = _closure({steps.get(phase, phase) for phase in phases})
    return frozenset(phases)


def is_legal(before: str, after: str, actions: Sequence[Action] = ()) -> bool:
    if UNKNOWN in (before, after):
        return True
    return after in reachable(before, actions)


def desired_allowed(
    previous: frozenset[str], actions: Sequence[Action], actual: str | None
) -> frozenset[str]:
    """The desiredPhase values a read showing `actual` may carry after `actions` (oldest first).

    The read's own actualPhase tells whether an action can have been a no-op: a suspended training that
    is not finished must want Stopped, whatever it was doing when the suspend arrived. Judging by the
    phase seen *before* the action would be wrong on a live cluster, where that phase may be stale.
    """
    allowed = previous
    # Deleting that no action of ours explains was started by the system (auto-deletion after
    # completion) or by someone else: either way the training is meant to be Deleted.
    if actual == "Deleting":
        allowed = allowed | {"Deleted"}
    for action in actions:
        wanted = frozenset({DESIRED_AFTER[action]})
        allowed = allowed | wanted if actual is None or actual in _NOOP_EVIDENCE[action] else wanted
    return allowed

"""Inferences: serving workloads. Their replicas (`minReplicas` of the request's autoscaling) run until the
inference is deleted — a server has no end, so no container outcome moves it on — at the version's
inference priority, which is non-preemptible. A client may change the spec (PATCH, where the version has
it): a running inference then shows `Updating` while the new revision's pods are placed, and `Running`
again once they are. There is no suspend or resume in the inferences API.

The table is the trainings' (`cluster/lifecycle.py`) without the rows of a container that ends or of
suspension, plus the update rows:

- Running → Updating on UPDATE: the old revision's pods go and the new revision's wait for placement
  (ENQUEUE replaces the scheduler's job); Updating → Running when the scheduler places them. A rollout that
  cannot be placed stays Updating, with the scheduler's reason, as a stuck Knative revision does.
- In Creating the new spec simply waits for the first placement; in Pending or Updating the queued
  request is replaced; an inference still starting (Initializing) goes back to Pending with the new spec.
"""

from __future__ import annotations

from mockserver.cluster.events import EventKind
from mockserver.cluster.kinds.base import KindEvents, PodCounts, PodRole, WorkloadKind
from mockserver.cluster.lifecycle import TIMED, Effect, Timed, Transition, Trigger
from mockserver.cluster.phases import Phase

_P, _T, _E = Phase, Trigger, Effect
# Phases in which its pods hold devices (a rollout releases the old ones first, see above).
_HOLDING = frozenset({_P.INITIALIZING, _P.RUNNING})
_ACTIVE = frozenset({_P.CREATING, _P.PENDING, _P.INITIALIZING, _P.RUNNING, _P.UPDATING, _P.TERMINATING})


def _t(
    source: frozenset[Phase] | Phase, trigger: Trigger, target: Phase | None, *effects: Effect
) -> Transition:
    return Transition(frozenset({source}) if isinstance(source, Phase) else source, trigger, target, effects)


TRANSITIONS: tuple[Transition, ...] = (
    # Time passes.
    _t(_P.CREATING, _T.ELAPSED, _P.PENDING, _E.ENQUEUE),
    _t(_P.INITIALIZING, _T.ELAPSED, _P.RUNNING),
    _t(_P.TERMINATING, _T.ELAPSED, _P.PENDING, _E.ENQUEUE),
    _t(_P.FAILED, _T.ELAPSED, _P.DELETING, _E.MARK_DELETED),  # autoDeletionTimeAfterCompletionSeconds
    _t(_P.DELETING, _T.ELAPSED, None, _E.REMOVE),
    # The scheduler.
    _t(_P.PENDING, _T.SCHEDULED, _P.INITIALIZING),
    _t(_P.UPDATING, _T.SCHEDULED, _P.RUNNING),
    _t(_HOLDING, _T.EVICTED, _P.TERMINATING, _E.RELEASE),  # only when its request made it preemptible
    _t(_ACTIVE, _T.FAILED, _P.FAILED, _E.RELEASE),  # forced through the control API
    # Clients.
    _t(_P.RUNNING, _T.UPDATE, _P.UPDATING, _E.ENQUEUE),
    _t(_P.INITIALIZING, _T.UPDATE, _P.PENDING, _E.ENQUEUE),
    _t(frozenset({_P.PENDING, _P.UPDATING}), _T.UPDATE, None, _E.ENQUEUE),
    _t(frozenset({_P.CREATING, _P.TERMINATING}), _T.UPDATE, None),  # queued with the new spec when due
    Transition(
        frozenset(Phase) - {_P.DELETING},
        _T.DELETE,
        _P.DELETING,
        (_E.MARK_DELETED, _E.RELEASE),
    ),
)
# The trainings' stage times, without a run that ends (Running lasts until deleted) or suspension.
# Its pods are no Job's (no Job controller times them), so Initializing is a timed stage of its own.
TIMED_PHASES: dict[Phase, Timed] = {
    **{phase: TIMED[phase] for phase in (_P.CREATING, _P.TERMINATING, _P.FAILED, _P.DELETING)},
    _P.INITIALIZING: (lambda t, timing: timing.initializing, _T.ELAPSED),
}

INFERENCE = WorkloadKind(
    name="inference",
    type_name="Inference",
    category="Deploy",
    # `minReplicas` identical serving pods, each placed on its own (Knative's replicas are not a gang).
    pod_roles=(PodRole("replica"),),
    job_pods=False,  # a Deployment's replicas, not a Job's pods
    pod_counts=PodCounts.BOUNDS,
    transitions=TRANSITIONS,
    timed=TIMED_PHASES,
    client_actions=frozenset({Trigger.UPDATE, Trigger.DELETE}),
    events=KindEvents(
        submitted=(EventKind.SUBMITTED, "inference {name} submitted to project {project} by {by}"),
        removed=(EventKind.DELETED, "inference removed"),
    ),
)

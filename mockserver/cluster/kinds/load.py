"""Control-API load: work that only holds resources, so that a test can make the scheduler reclaim or
preempt. No container and no timed phases: it waits (Pending) or runs (Running) until it is removed, and
an eviction puts it back in the queue. The workloads API shows it as what its priority makes it on
Run:ai — an inference, a workspace, or a preemptible interactive workspace — hence three descriptions
that share one lifecycle."""

from __future__ import annotations

from mockserver.cluster.events import EventKind
from mockserver.cluster.kinds.base import KindEvents, PodRole, WorkloadKind
from mockserver.cluster.lifecycle import Effect, Timed, Transition, Trigger
from mockserver.cluster.phases import Phase

# Who the workloads API says submitted a load.
LOAD_SUBMITTER = "control-api@mock.runai"
# Priorities from here up are an inference's on Run:ai (the `inference` class is 125).
INFERENCE_PRIORITY = 125

_P, _T, _E = Phase, Trigger, Effect
LOAD_TRANSITIONS = (
    Transition(frozenset({_P.PENDING}), _T.SCHEDULED, _P.RUNNING),
    Transition(frozenset({_P.RUNNING}), _T.EVICTED, _P.PENDING, (_E.REQUEUE,)),
    Transition(frozenset(Phase), _T.DELETE, None, (_E.RELEASE, _E.REMOVE)),
)
_NO_TIMERS: dict[Phase, Timed] = {}
_EVENTS = KindEvents(
    submitted=(EventKind.LOAD_SUBMITTED, "load {name} in project {project}"),
    removed=(EventKind.LOAD_REMOVED, "load removed"),
    on_trigger={
        Trigger.SCHEDULED: (EventKind.LOAD_STARTED, "load {name} placed"),
        Trigger.EVICTED: (EventKind.LOAD_EVICTED, "{why}"),
    },
    phases=False,
    pending=False,
)


def _load(type_name: str, category: str, priority_class: str) -> WorkloadKind:
    return WorkloadKind(
        name=f"load:{priority_class}",
        type_name=type_name,
        category=category,
        pod_roles=(PodRole("main", replicated=False),),
        transitions=LOAD_TRANSITIONS,
        timed=_NO_TIMERS,
        client_actions=frozenset(),  # removed through the control API, never by a client
        events=_EVENTS,
        start=Phase.PENDING,
        on_submit=(Effect.ENQUEUE,),
        runs_container=False,
        job_pods=False,
        retained=False,
        unique_names=False,
    )


# The priority class each shows, keyed the same way.
LOAD_KINDS = {
    "inference": _load("Inference", "Deploy", "inference"),
    "build": _load("Workspace", "Build", "build"),
    "interactive-preemptible": _load("Workspace", "Build", "interactive-preemptible"),
}


def load_kind(priority: int, preemptible: bool) -> tuple[WorkloadKind, str]:
    """The description a load of this priority gets, and the priority class it shows."""
    if priority >= INFERENCE_PRIORITY:
        name = "inference"
    elif not preemptible:
        name = "build"
    else:
        name = "interactive-preemptible"
    return LOAD_KINDS[name], name

"""Distributed trainings: one master pod and `numWorkers` worker pods of a framework's job (PyTorch, TF,
MPI, XGBoost, JAX), gang-scheduled: the master and the minimum of workers start together or none does
(all workers, or elastic PyTorch's `minReplicas`), and a gang that loses pods below that minimum is
evicted whole and waits again (KAI's stale-gang eviction). Otherwise it moves through a training's phases,
with the same events and views; which client actions exist is the API version's business (suspend and
resume came with 2.20)."""

from __future__ import annotations

from mockserver.cluster.events import EventKind
from mockserver.cluster.kinds.base import KindEvents, PodCounts, PodRole, WorkloadKind
from mockserver.cluster.lifecycle import CLIENT_TRIGGERS, TIMED, TRANSITIONS

DISTRIBUTED = WorkloadKind(
    name="distributed",
    type_name="Distributed",
    category="Train",
    # Pod 0 is the master (its own request when the body gives a master spec), then the workers.
    pod_roles=(PodRole("master", replicated=False), PodRole("worker")),
    transitions=TRANSITIONS,
    timed=TIMED,
    client_actions=CLIENT_TRIGGERS,
    events=KindEvents(
        submitted=(EventKind.SUBMITTED, "distributed training {name} submitted to project {project} by {by}"),
        removed=(EventKind.DELETED, "distributed training removed"),
    ),
    gang=True,
    pod_counts=PodCounts.BOUNDS,
)

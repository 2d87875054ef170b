"""Trainings: batch work whose container runs to an end (Completed or Failed), restarted on a crash up to
its backoff limit; the trainings API submits, suspends, resumes and deletes them."""

from __future__ import annotations

from mockserver.cluster.events import EventKind
from mockserver.cluster.kinds.base import KindEvents, PodCounts, PodRole, WorkloadKind
from mockserver.cluster.lifecycle import CLIENT_TRIGGERS, TIMED, TRANSITIONS

TRAINING = WorkloadKind(
    name="training",
    type_name="Training",
    category="Train",
    # `parallelism` identical pods, each scheduled on its own as KAI does for the pods of a batch job.
    pod_roles=(PodRole("worker"),),
    transitions=TRANSITIONS,
    timed=TIMED,
    client_actions=CLIENT_TRIGGERS,
    pod_counts=PodCounts.JOB,
    events=KindEvents(
        submitted=(EventKind.SUBMITTED, "training {name} submitted to project {project} by {by}"),
        removed=(EventKind.DELETED, "training removed"),
    ),
)

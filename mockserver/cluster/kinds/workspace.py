"""Workspaces: interactive work (a notebook, a shell, a data mover). One pod; it runs until it is
suspended or its command ends, and by default sits at its version's interactive priority, which is
non-preemptible and so must fit in the project's quota. Otherwise it moves through the same phases as a
training, with the same pods, events and views."""

from __future__ import annotations

from mockserver.cluster.events import EventKind
from mockserver.cluster.kinds.base import KindEvents, PodRole, WorkloadKind
from mockserver.cluster.lifecycle import CLIENT_TRIGGERS, TIMED, TRANSITIONS

WORKSPACE = WorkloadKind(
    name="workspace",
    type_name="Workspace",
    category="Build",
    pod_roles=(PodRole("main", replicated=False),),
    transitions=TRANSITIONS,
    timed=TIMED,
    client_actions=CLIENT_TRIGGERS,
    events=KindEvents(
        submitted=(EventKind.SUBMITTED, "workspace {name} submitted to project {project} by {by}"),
        removed=(EventKind.DELETED, "workspace removed"),
    ),
    interactive=True,
)

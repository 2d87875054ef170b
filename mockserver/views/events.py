"""A workload's events and phase history as the workloads API shows them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from mockserver.cluster.clock import isoformat
from mockserver.cluster.events import Event, EventKind
from mockserver.cluster.reasons import ReasonCode
from mockserver.cluster.topology import Topology
from mockserver.views.facts import IDS, WorkloadFacts
from mockserver.views.workloads import namespace

_REASONS = {
    EventKind.SUBMITTED: ("Normal", "Submitted", "workload-controller"),
    EventKind.PENDING: ("Warning", "Unschedulable", "runai-scheduler"),
    EventKind.DELETED: ("Normal", "Deleted", "workload-controller"),
    EventKind.LOAD_SUBMITTED: ("Normal", "Submitted", "workload-controller"),
    EventKind.LOAD_STARTED: ("Normal", "Scheduled", "runai-scheduler"),
    EventKind.LOAD_EVICTED: ("Warning", "Preempted", "runai-scheduler"),
    EventKind.LOAD_REMOVED: ("Normal", "Deleted", "workload-controller"),
}


_PREEMPTIONS = frozenset({ReasonCode.PREEMPTED, ReasonCode.RECLAIMED})


def _phase_reason(event: Event) -> tuple[str, str, str]:
    """(type, reason, source) of a phase change, named from its codes (never from its words)."""
    if _PREEMPTIONS.intersection(event.codes):
        return "Warning", "Preempted", "runai-scheduler"
    if ReasonCode.NODE_NOT_READY in event.codes:  # Kubernetes' taint manager evicts a not-ready node's pods
        return "Warning", "TaintManagerEviction", "taint-eviction-controller"
    if ReasonCode.SCHEDULED in event.codes:
        return "Normal", "Scheduled", "runai-scheduler"
    if event.phase == "Failed":
        return "Warning", "Failed", "workload-controller"
    return "Normal", f"{event.phase or 'Phase'}", "workload-controller"


# Pod events name their source as Kubernetes does: the scheduler binds and preempts, the kubelet the rest.
_SCHEDULER_REASONS = frozenset({"Scheduled", "Preempted"})


def event(topology: Topology, facts: WorkloadFacts, item: Event) -> dict[str, Any]:
    involved = {"uid": facts.id, "kind": f"{facts.type}Workload", "name": facts.name}
    if item.kind is EventKind.POD and item.detail:
        kind, reason, pod = item.detail.split("/", 2)
        source = "runai-scheduler" if reason in _SCHEDULER_REASONS else "kubelet"
        involved = {"uid": str(uuid.uuid5(IDS, f"pod/{facts.id}/name/{pod}")), "kind": "Pod", "name": pod}
    else:
        kind, reason, source = (
            _phase_reason(item)
            if item.kind is EventKind.PHASE
            else _REASONS.get(item.kind, ("Normal", "Info", "mock"))
        )
    message = item.message if item.kind is not EventKind.PHASE else f"{item.phase}: {item.message}"
    return {
        "id": str(uuid.uuid5(IDS, f"event/{item.seq}")),
        "createdAt": isoformat(item.time),
        "type": kind,
        "reason": reason,
        "source": source,
        "message": message,
        "clusterId": facts.cluster_id,
        "involvedObject": involved | {"namespace": namespace(topology, facts.project_id)},
    }


def history(topology: Topology, facts: WorkloadFacts, items: Sequence[Event]) -> list[dict[str, Any]]:
    """Phase changes and the other events, merged in time order."""
    records = []
    for item in items:
        if item.kind is EventKind.PHASE and item.phase:
            records.append(
                (
                    item.time,
                    item.seq,
                    {
                        "meta": {"creationTimestamp": isoformat(item.time), "type": "PhaseUpdate"},
                        "spec": {"phaseUpdate": {"phase": str(item.phase), "phaseMessage": item.message}},
                    },
                )
            )
        else:
            records.append(
                (
                    item.time,
                    item.seq,
                    {
                        "meta": {"creationTimestamp": isoformat(item.time), "type": "Event"},
                        "spec": {"event": event(topology, facts, item)},
                    },
                )
            )
    return [record for _, _, record in sorted(records, key=lambda r: (r[0], r[1]))]

"""A workload's events and phase history as the workloads API shows them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from mockserver.cluster.clock import isoformat
from mockserver.cluster.events import Event, EventKind
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


def _phase_reason(event: Event) -> tuple[str, str, str]:
    text = event.message.lower()
    if "preempted" in text:
        return "Warning", "Preempted", "runai-scheduler"
    if "scheduled" in text:
        return "Normal", "Scheduled", "runai-scheduler"
    if event.phase == "Failed" or "failed" in text or "crash" in text:
        return "Warning", "BackOff" if event.phase != "Failed" else "Failed", "workload-controller"
    return "Normal", f"{event.phase or 'Phase'}", "workload-controller"


def event(topology: Topology, facts: WorkloadFacts, item: Event) -> dict[str, Any]:
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
        "involvedObject": {
            "uid": facts.id,
            "kind": f"{facts.type}Workload",
            "name": facts.name,
            "namespace": namespace(topology, facts.project_id),
        },
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

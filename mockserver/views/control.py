"""The control API's views of the cluster: snapshot, loads, events, clock."""

from __future__ import annotations

from typing import Any

from mockserver.cluster.clock import isoformat
from mockserver.cluster.cluster import FakeCluster
from mockserver.cluster.events import Event
from mockserver.cluster.kinds import TRAINING
from mockserver.cluster.phases import Phase
from mockserver.cluster.workload import Workload


def snapshot_view(cluster: FakeCluster) -> dict[str, Any]:
    """Nodes, jobs, trainings and loads at one instant: on a running clock, parts read one after another
    disagreed (a device still held by a training that had gone back to Pending in between)."""
    with cluster.reading() as reader:
        state = reader.scheduler_snapshot()
        state["clusterId"] = cluster.topology.cluster_id
        state["now"] = isoformat(reader.now())
        state["trainings"] = [training_view(t) for t in reader.workloads(TRAINING)]
        state["loads"] = [load_view(load) for load in reader.loads()]
    return state


def training_view(training: Workload) -> dict[str, Any]:
    return {
        "workloadId": training.workload_id,
        "name": training.name,
        "projectId": training.project_id,
        "desiredPhase": training.desired_phase.value,
        "actualPhase": training.actual_phase.value,
        "phaseSince": isoformat(training.phase_since),
        "pendingReason": training.pending_reason,
        "restarts": training.restarts,
        "backoffLimit": training.request.backoff_limit,
    }


def load_view(load: Workload) -> dict[str, Any]:
    return {
        "workloadId": load.workload_id,
        "name": load.name,
        "projectId": load.project_id,
        "running": load.actual_phase is Phase.RUNNING,
        "priority": load.priority,
        "preemptible": load.preemptible,
        "pendingReason": load.pending_reason,
    }


def event_view(event: Event) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "time": isoformat(event.time),
        "kind": event.kind.value,
        "workloadId": event.workload_id,
        "phase": event.phase,
        "message": event.message,
    }


def clock_view(cluster: FakeCluster) -> dict[str, Any]:
    return {"mode": cluster.clock.mode, "now": isoformat(cluster.now()), "speed": cluster.clock.speed}

"""The control API: thin translations between HTTP and the fake cluster's test hooks."""

from __future__ import annotations

import asyncio
from typing import Any

from mockserver.handlers.state import current
from mockserver.parsing.compute import pod_request_from_compute
from mockserver.views.control import clock_view, event_view, load_view, snapshot_view


async def control_reset() -> Any:
    state = current()
    state.cluster.reset()
    state.requests.clear()
    state.faults.latency_seconds, state.faults.error_rate = 0.0, 0.0
    state.faults.cluster_connected = True  # the reset cluster is connected
    return None, 204


async def control_get_clock() -> Any:
    return clock_view(current().cluster), 200


async def control_advance_clock(body: dict[str, Any]) -> Any:
    state = current()
    # In a worker thread: a long advance works in slices and the server answers others meanwhile.
    if state.phase_coverage is not None:
        await asyncio.to_thread(state.phase_coverage.advance, body["seconds"])
    else:
        await asyncio.to_thread(state.cluster.advance, body["seconds"])
    return clock_view(state.cluster), 200


async def control_snapshot() -> Any:
    return snapshot_view(current().cluster), 200


async def control_force_outcome(workloadId: str, body: dict[str, Any]) -> Any:
    current().cluster.force_outcome(workloadId, body["outcome"])
    return {"code": 202, "message": f"Outcome {body['outcome']} applied."}, 202


async def control_submit_load(body: dict[str, Any]) -> Any:
    load = current().cluster.submit_load(
        name=body["name"],
        project_id=body["projectId"],
        pod=pod_request_from_compute(body.get("compute") or {}),
        priority=body.get("priority", 100),
        preemptible=body.get("preemptible", False),
        node_pools=body.get("nodePools") or [],
    )
    shown = load_view(load)
    return {key: shown[key] for key in ("workloadId", "name", "running")}, 201


async def control_remove_load(workloadId: str) -> Any:
    current().cluster.remove_load(workloadId)
    return None, 204


async def control_events(after: int = 0, limit: int = 1000) -> Any:
    return {"events": [event_view(e) for e in current().cluster.events_after(after, limit)]}, 200


async def control_get_faults() -> Any:
    return current().faults.to_api(), 200


async def control_set_faults(body: dict[str, Any]) -> Any:
    faults = current().faults
    faults.latency_seconds = body.get("latencySeconds", 0.0)
    faults.error_rate = body.get("errorRate", 0.0)
    faults.error_status = body.get("errorStatus", 503)
    faults.cluster_connected = bool(body.get("clusterConnected", True))
    current().cluster.set_connected(faults.cluster_connected)
    return faults.to_api(), 200

"""The request journal as the control API shows it (`GET /api/mock/v1/requests`)."""

from __future__ import annotations

from typing import Any

from mockserver.cluster.clock import isoformat
from mockserver.requests_ring import RecordedRequest, RequestRing


def recorded_view(entry: RecordedRequest) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "time": isoformat(entry.virtual_at),
        "wallTime": isoformat(entry.wall_at),
        "durationMs": round(entry.wall_seconds * 1000, 3),
        "method": entry.method,
        "path": entry.path,
        "operationId": entry.operation_id or None,
        "workloadId": entry.workload_id,
        "status": entry.status,
        "caller": entry.caller,
        "bearer": entry.bearer,
        "tokenExpired": entry.token_expired,
    }


def journal_view(ring: RequestRing, entries: list[RecordedRequest]) -> dict[str, Any]:
    return {
        "requests": [recorded_view(e) for e in entries],
        "size": ring.size,
        "dropped": ring.dropped,
    }

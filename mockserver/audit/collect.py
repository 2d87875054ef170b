"""The audit's input from a running fake: its request journal, and when each workload it names ended."""

from __future__ import annotations

from mockserver.audit.checks import AuditInput
from mockserver.cluster.cluster import FakeCluster
from mockserver.cluster.errors import NotFound
from mockserver.cluster.phases import TERMINAL
from mockserver.requests_ring import RequestRing


def collect(ring: RequestRing, cluster: FakeCluster) -> AuditInput:
    requests = ring.select_all()
    ended: dict[str, tuple[float, str]] = {}
    with cluster.reading() as reader:
        for workload_id in {e.workload_id for e in requests if e.workload_id}:
            try:
                workload = reader.workload(workload_id, deleted=True)
            except NotFound:  # never existed, or purged after its retention
                continue
            end = next((c for c in workload.history if c.phase in TERMINAL), None)
            if end is not None:
                ended[workload_id] = (end.time, end.phase.value)
            elif workload.deleted_at is not None:
                ended[workload_id] = (workload.deleted_at, "deleted")
    return AuditInput(requests, ended, realtime=cluster.clock.mode == "realtime")

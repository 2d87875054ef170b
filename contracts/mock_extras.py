"""What the `runai_mock` fixture adds to the control client: the request journal and cluster chaos.

Over HTTP like everything in `contracts/` (the fake runs in its own process): `runai_mock.requests(...)`
reads `GET /api/mock/v1/requests`, `runai_mock.cluster.node_down("node-a-1")` and its siblings call the
control API's chaos routes. Tests then assert what their code sent, and how it coped.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.backend.control import FakeControl


@dataclass(frozen=True)
class SentRequest:
    """One request the fake answered, as its request journal shows it."""

    seq: int
    time: datetime  # the fake's virtual clock when it arrived
    wall_time: datetime
    duration_ms: float
    method: str
    path: str
    operation_id: str | None
    workload_id: str | None
    status: int
    caller: str | None
    bearer: bool
    token_expired: bool

    @classmethod
    def from_api(cls, entry: dict[str, Any]) -> SentRequest:
        return cls(
            seq=int(entry["seq"]),
            time=_moment(entry["time"]),
            wall_time=_moment(entry["wallTime"]),
            duration_ms=float(entry["durationMs"]),
            method=str(entry["method"]),
            path=str(entry["path"]),
            operation_id=entry.get("operationId"),
            workload_id=entry.get("workloadId"),
            status=int(entry["status"]),
            caller=entry.get("caller"),
            bearer=bool(entry.get("bearer")),
            token_expired=bool(entry.get("tokenExpired")),
        )


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def sent_requests(
    control: FakeControl,
    *,
    operation: str | None = None,
    workload: str | None = None,
    caller: str | None = None,
    after: int = 0,
    since: str | None = None,
    limit: int = 100_000,
) -> list[SentRequest]:
    params: dict[str, Any] = {"after": after, "limit": limit}
    for name, value in (
        ("operation", operation),
        ("workload", workload),
        ("caller", caller),
        ("since", since),
    ):
        if value is not None:
            params[name] = value
    body = control._call("GET", "/requests", params=params)
    return [SentRequest.from_api(entry) for entry in body["requests"]]


def audit_findings(control: FakeControl) -> list[dict[str, Any]]:
    """The fake's client audit of what was sent since the reset (`GET /api/mock/v1/audit`)."""
    findings = control._call("GET", "/audit")["findings"]
    return [f for f in findings if isinstance(f, dict)]


def intervals(requests: list[SentRequest]) -> list[float]:
    """Seconds of virtual time between consecutive requests (a polling loop's period)."""
    return [(b.time - a.time).total_seconds() for a, b in itertools.pairwise(requests)]


class ClusterChaos:
    """Takes parts of the fake cluster away and gives them back, through the control API."""

    def __init__(self, control: FakeControl) -> None:
        self._control = control

    def node_down(self, node: str) -> dict[str, Any]:
        """The node stops: its pods are evicted (their workloads go back to Pending) and it takes none."""
        return self._post("/nodes/down", {"node": node})

    def node_up(self, node: str) -> dict[str, Any]:
        return self._post("/nodes/up", {"node": node})

    def gpu_unhealthy(self, node: str, gpu: int) -> dict[str, Any]:
        """An XID-style device failure: the pod on that GPU fails and the device takes no pod."""
        return self._post("/gpus/unhealthy", {"node": node, "gpu": gpu})

    def gpu_healthy(self, node: str, gpu: int) -> dict[str, Any]:
        return self._post("/gpus/healthy", {"node": node, "gpu": gpu})

    def set_quota(self, project: str, gpus: float, node_pool: str | None = None) -> dict[str, Any]:
        """A project's deserved GPUs (in one pool, or its first); over-quota work may be reclaimed."""
        body: dict[str, Any] = {"projectId": project, "gpus": gpus}
        if node_pool is not None:
            body["nodePool"] = node_pool
        return self._post("/projects/quota", body)

    def disconnect(self) -> None:
        """The cluster loses the control plane: every live workload reads Unknown; the cluster runs on."""
        self._control._call("PUT", "/faults", json={"clusterConnected": False})

    def reconnect(self) -> None:
        self._control._call("PUT", "/faults", json={"clusterConnected": True})

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self._control._call("POST", path, json=body)
        return answer if isinstance(answer, dict) else {}

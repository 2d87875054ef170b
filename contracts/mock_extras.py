"""What the `runai_mock` fixture adds to the control client: the request journal.

Over HTTP like everything in `contracts/` (the fake runs in its own process): `runai_mock.requests(...)`
reads `GET /api/mock/v1/requests`. Tests then assert what their code sent.
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


def intervals(requests: list[SentRequest]) -> list[float]:
    """Seconds of virtual time between consecutive requests (a polling loop's period)."""
    return [(b.time - a.time).total_seconds() for a, b in itertools.pairwise(requests)]

"""The control API's request journal: what clients of the Run:ai API sent, and what they got."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from mockserver.cluster.errors import ClusterError
from mockserver.handlers.state import current
from mockserver.requests_ring import RequestFilter
from mockserver.views.requests import journal_view


async def control_requests(
    operation: str | None = None,
    workload: str | None = None,
    caller: str | None = None,
    after: int = 0,
    since: datetime | str | None = None,
    limit: int = 1000,
) -> Any:
    ring = current().requests
    wanted = RequestFilter(
        operation=operation,
        workload=workload,
        caller=caller,
        after=after,
        since=_seconds(since),
        limit=limit,
    )
    return journal_view(ring, ring.select(wanted)), 200


def _seconds(moment: datetime | str | None) -> float | None:
    """A date-time parameter (Connexion passes the text; the contract checked its format)."""
    if moment is None:
        return None
    if isinstance(moment, str):
        text = moment
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError as error:
            raise ClusterError(f"since: not an RFC 3339 date-time: {text[:40]!r}") from error
    if moment.tzinfo is None:  # the virtual clock is UTC
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()

"""The journal at the edge: changes run one at a time on a clock held still, then a snapshot when due.

What is recorded is not the request but the commands it makes the cluster carry out (`commands.py`):
their parsed, typed arguments and the application that sent them, so replay needs neither the HTTP
layer nor a valid token. This middleware only orders the changes: requests that may change state are
taken one at a time (the journal's order is then the order in which the cluster saw them; an advance
runs in a worker thread and nothing else changes meanwhile), a realtime clock stands still while one
runs (so the time recorded is the time the cluster used), and after one, when enough has been
recorded, the cluster is snapshotted and the journal compacted while nothing else changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.http.middleware import REPLAYING

MUTATING = frozenset({"POST", "PUT", "DELETE", "PATCH"})
# A token grant changes no state: tokens are signed, not stored.
_NOT_STATE = ("/api/v1/token",)


def changes_state(scope: Scope) -> bool:
    return (
        scope["type"] == "http"
        and scope["method"] in MUTATING
        and scope["path"].rstrip("/") not in _NOT_STATE
        and not scope.get(REPLAYING)
    )


class Journal:
    """One change at a time, on a held clock; `after_change` (a snapshot when due) before the next."""

    def __init__(
        self,
        app: ASGIApp,
        now: Callable[[], float],
        hold: Callable[[float | None], None],
        after_change: Callable[[], None],
    ) -> None:
        self.app, self.now, self.hold, self.after_change = app, now, hold, after_change
        self._one_at_a_time = asyncio.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not changes_state(scope):
            await self.app(scope, receive, send)
            return
        async with self._one_at_a_time:
            self.hold(self.now())  # a realtime clock stands still while the change runs
            try:
                await self.app(scope, receive, send)
            finally:
                self.hold(None)
                self.after_change()

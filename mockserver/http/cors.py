"""CORS for browser-based clients (`mockserver --cors ORIGIN|*`): preflights answered, answers marked.

Off unless asked for, as on a real deployment. Bearer tokens travel in a header, not a cookie, so
credentials are never allowed. `--cors` covers the Run:ai API only: the control API (reset, faults,
clock), which needs no token on loopback, answers another origin only when `--control-cors` names it
(see `controlpages.py`).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.http.exposure import CONTROL_PREFIX
from mockserver.http.middleware import send_error

METHODS = "GET, POST, PUT, DELETE, OPTIONS"
# What a client's script may read besides the safelisted headers: `Date` carries the virtual clock.
EXPOSED = "Date, Allow, Content-Length"
MAX_AGE_SECONDS = 600


class CorsPolicy:
    """`*`, or a comma-separated list of exact origins such as `http://localhost:3000`."""

    def __init__(self, origins: str) -> None:
        self.any = origins.strip() == "*"
        self.origins = frozenset(o.strip().rstrip("/") for o in origins.split(",") if o.strip())

    def allows(self, origin: str) -> bool:
        return self.any or origin.rstrip("/") in self.origins

    def allow_origin(self, origin: str) -> str:
        return "*" if self.any else origin


class Cors:
    def __init__(
        self, app: ASGIApp, policy: CorsPolicy | None, control_policy: CorsPolicy | None = None
    ) -> None:
        self.app, self.api_policy, self.control_policy = app, policy, control_policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        origin = headers.get(b"origin", b"").decode("latin-1")
        if not origin:
            await self.app(scope, receive, send)
            return
        control = scope["path"].startswith(CONTROL_PREFIX)
        policy = self.control_policy if control else self.api_policy
        preflight = scope["method"] == "OPTIONS" and b"access-control-request-method" in headers
        if preflight:
            await self._preflight(policy, origin, headers, send, control)
            return
        if policy is None or not policy.allows(origin):
            # No CORS headers: the browser keeps the answer from the page.
            await self.app(scope, receive, send)
            return
        added = [
            (b"access-control-allow-origin", policy.allow_origin(origin).encode("latin-1")),
            (b"access-control-expose-headers", EXPOSED.encode()),
            (b"vary", b"Origin"),
        ]

        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *added]}
            await send(message)

        await self.app(scope, receive, marked)

    async def _preflight(
        self, policy: CorsPolicy | None, origin: str, headers: dict[bytes, bytes], send: Send, control: bool
    ) -> None:
        if policy is None or not policy.allows(origin):
            flag = "--control-cors" if control else "--cors"
            shown = origin[:200]
            await send_error(
                send, 403, f"Origin {shown} is not allowed; start mockserver with {flag} {shown}"
            )
            return
        requested = headers.get(b"access-control-request-headers", b"authorization, content-type, prefer")
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [
                    (b"access-control-allow-origin", policy.allow_origin(origin).encode("latin-1")),
                    (b"access-control-allow-methods", METHODS.encode()),
                    (b"access-control-allow-headers", requested),
                    (b"access-control-max-age", str(MAX_AGE_SECONDS).encode()),
                    (b"vary", b"Origin"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})

"""Serving beyond loopback: only on request (`--expose`), and then the control API wants its own token.

The control API resets the cluster, moves the clock and injects faults; on loopback only the
developer reaches it, so it has no authentication. Bound to a network address, anyone could.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets

from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.http.middleware import send_error

CONTROL_PREFIX = "/api/mock/v1"
# Pages and the contract describe the control API; they change nothing and stay readable.
_PUBLIC = ("/api/mock/v1/docs", "/api/mock/v1/openapi.json")


def public_control_page(path: str) -> bool:
    # A dot segment ("/docs/../reset") must not borrow the pages' exemption, whatever the router makes of it.
    return path.startswith(_PUBLIC) and "/." not in path


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything


def new_control_token() -> str:
    return secrets.token_urlsafe(24)


def exposure_notice(base: str, host: str, control_token: str, names: str | None = None) -> str:
    """What the banner says when the server is exposed, in plain words. `names`: the Host names answered
    besides loopback ones (None: any, on a server bound to every address without --allowed-host)."""
    answered = (
        f"  Host names answered: loopback, {names} (others are refused; add more with --allowed-host)"
        if names
        else "  Host names answered: any (bound to every address); --allowed-host NAME restricts them"
    )
    return f"""
EXPOSED: listening on {host}, reachable from the network, not only from this machine.
  Run:ai API {base}/api/v1: anyone holding the configured credentials (the embedded ones are public).
  Control API {base}{CONTROL_PREFIX} (reset, clock, faults, loads): only with this token:
    Authorization: Bearer {control_token}
  Dashboard (drives the control API with the token in its address): {base}/#token={control_token}
  Swagger pages and the OpenAPI documents: anyone.
{answered}"""


class ControlGuard:
    """401 `{code, message}` for control API calls without the control token."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app, self.expected = app, f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith(CONTROL_PREFIX) and not public_control_page(path):
            presented = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(presented, self.expected):
                message = "The control API of an exposed server needs the control token printed at start"
                await send_error(send, 401, message)
                return
        await self.app(scope, receive, send)

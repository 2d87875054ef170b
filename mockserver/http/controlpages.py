"""The control API is not reachable from web pages: no reset, fault or clock move from another site.

On loopback the control API needs no credentials, so any page the developer has open could POST to
it: `fetch(…/reset, {method: 'POST', mode: 'no-cors'})` is a "simple" request that a browser sends
without asking. Two rules close that:

- a control call whose `Origin` is another site than the server itself is refused outright, unless
  that origin was allowed with `--control-cors` (`--cors` does not cover the control API);
- a state-changing control call without an `Origin` of the server itself must be a request a page
  can only send after a CORS preflight: it carries the `X-Mock-Control` header, or a JSON
  `Content-Type`.

Browsers send `Origin` with every POST, PUT and DELETE, and a page cannot choose it: the server's own
pages (the dashboard, Swagger UI's "Try it out") are recognised by it. Scripts, the harness and curl
send no `Origin`, and send the header (or JSON).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.http.cors import CorsPolicy
from mockserver.http.exposure import CONTROL_PREFIX, public_control_page
from mockserver.http.middleware import REPLAYING, send_error
from mockserver.http.routes import Routes

CONTROL_HEADER = "X-Mock-Control"
_CONTROL_HEADER = CONTROL_HEADER.lower().encode()
_CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The content types a page may send cross-origin without a preflight (the Fetch standard's list).
_SIMPLE_TYPES = (b"application/x-www-form-urlencoded", b"multipart/form-data", b"text/plain")


def _simple_type(content_type: bytes | None) -> bool:
    if content_type is None:
        return True
    essence = content_type.partition(b";")[0].strip().lower()
    return essence in _SIMPLE_TYPES or not essence


def same_origin(origin: str, host: str | None, scheme: str) -> bool:
    return host is not None and origin.rstrip("/").lower() == f"{scheme}://{host}".lower()


class ControlFromPages:
    """403 `{code, message}` for a control call from another site, or a state-changing one a page could
    have sent without a preflight."""

    def __init__(self, app: ASGIApp, allowed: CorsPolicy | None = None, routes: Routes | None = None) -> None:
        self.app, self.allowed, self.routes = app, allowed, routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(CONTROL_PREFIX) or public_control_page(path) or scope.get(REPLAYING):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        origin = headers.get(b"origin", b"").decode("latin-1")
        host = headers.get(b"host")
        own = bool(origin) and same_origin(
            origin, None if host is None else host.decode("latin-1"), scope.get("scheme", "http")
        )
        if origin and not own and not (self.allowed is not None and self.allowed.allows(origin)):
            message = (
                f"The control API answers no page of another origin ({origin[:200]}); "
                f"start mockserver with --control-cors {origin[:200]} to allow that one"
            )
            await send_error(send, 403, message)
            return
        if (
            scope["method"] in _CHANGES
            # A method the control API does not declare changes nothing: routing answers it 405, as the
            # contract says, rather than this rule 403.
            and (self.routes is None or self.routes.operation(scope["method"], path) is not None)
            and not own  # the server's own pages (dashboard, Swagger UI), as the browser vouches
            and _CONTROL_HEADER not in headers
            and _simple_type(headers.get(b"content-type"))
        ):
            message = (
                f"A control call that changes the cluster needs the header {CONTROL_HEADER}: 1 (or a JSON body), "
                "so that no web page can send it"
            )
            await send_error(send, 403, message)
            return
        await self.app(scope, receive, send)

"""`Prefer: code=NNN` (Prism's convention): answer with one of the operation's documented error statuses.

For testing a client's error paths one request at a time, next to the random fault injection. The
documented statuses and their messages come from the contracts being served, so `--api latest` and
2.18 each force only what their own document declares. A code the operation does not declare is refused
with a 400 that lists the ones it does; a documented success code just lets the request through.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.http.digits import plain_int
from mockserver.http.middleware import send_error
from mockserver.http.routes import Routes

_CODE = re.compile(r"(?:^|[,;\s])code\s*=\s*\"?([^\s,;\"]*)", re.IGNORECASE)


def requested_code(prefer: str) -> str | None:
    """The value of `code=` among the header's preferences (`respond-async, code=404`), if any."""
    found = _CODE.search(prefer)
    return found.group(1) if found else None


class PreferCode:
    def __init__(self, app: ASGIApp, routes: Routes) -> None:
        self.app, self.routes = app, routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        prefer = dict(scope.get("headers", [])).get(b"prefer") if scope["type"] == "http" else None
        code = requested_code(prefer.decode("latin-1")) if prefer else None
        operation = self.routes.for_request(scope) if code is not None else None
        if code is None or operation is None:
            await self.app(scope, receive, send)
            return
        documented = ", ".join(map(str, operation.errors())) or "none"
        where = f"{operation.method} {operation.template}"
        status = plain_int(code)
        if status is None or status not in operation.answers:
            await send_error(
                send,
                400,
                f"Prefer: code={_shown(code)} is not a documented answer of {where}; its documented error codes are "
                f"{documented}",
            )
            return
        if status < 400:  # a documented success: nothing to force, the request is served as usual
            await self.app(scope, receive, send)
            return
        await send_error(send, status, operation.answers[status])


def _shown(code: str) -> str:
    """The code as sent, cut short: 5,000 digits would push the useful part of the message out."""
    return code if len(code) <= 20 else code[:20] + "…"

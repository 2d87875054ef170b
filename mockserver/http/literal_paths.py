"""A path a contract names literally is that resource, even where a template also matches it.

`/api/v1/workloads/trainings` is the trainings collection (POST only), though the router would also
match it to `/api/v1/workloads/{workloadId}` and answer a GET with 404 for the "workload" `trainings`.
A client reading the contract expects what any path answers to a method it does not declare: 405 with
the methods it does declare in `Allow`.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.http.middleware import send_error
from mockserver.http.routes import Routes


class LiteralPaths:
    def __init__(self, app: ASGIApp, routes: Routes) -> None:
        self.app, self.routes = app, routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            allowed = self.routes.literal_methods(scope["path"])
            if allowed and scope["method"] not in allowed:
                message = f"Method {scope['method']} is not allowed here; use {', '.join(allowed)}"
                await _method_not_allowed(send, message, allowed)
                return
        await self.app(scope, receive, send)


async def _method_not_allowed(send: Send, message: str, allowed: list[str]) -> None:
    async def with_allow(event: Any) -> None:
        if event["type"] == "http.response.start":
            event = {**event, "headers": [*event["headers"], (b"allow", ", ".join(allowed).encode())]}
        await send(event)

    await send_error(with_allow, 405, message)

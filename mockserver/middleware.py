"""ASGI middleware around the Connexion app: app state, the body size limit, fault injection."""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.routes import Routes

MAX_BODY_BYTES = 1024 * 1024
API_PREFIX = "/api/v1/"
# Operations that declare no 500 answer: an injected 500 there would break the contract.
_NO_500 = {("POST", "/api/v1/workloads/trainings")}


async def send_error(send: Send, status: int, message: str) -> None:
    body = json.dumps({"code": status, "message": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class AppState:
    """Puts the app-owned state object into every request's scope, where handlers find it."""

    def __init__(self, app: ASGIApp, state: Any) -> None:
        self.app, self.state = app, state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["mockserver"] = self.state
        await self.app(scope, receive, send)


class BodyGuard:
    """Refuses bodies over 1 MiB with a 400 before anything parses them, and drops the body of an
    operation that takes none: Connexion would otherwise parse a stray form body and answer an
    undeclared 400 when it is malformed."""

    def __init__(self, app: ASGIApp, routes: Routes, limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.routes, self.limit = app, routes, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self.routes.takes_body(scope["method"], scope["path"]):
            scope["headers"] = [
                (k, v) for k, v in scope["headers"] if k not in (b"content-type", b"content-length")
            ]
            await self.app(scope, _without_body(receive), send)
            return
        too_large = f"Request body is larger than the limit of {self.limit} bytes"
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await send_error(send, 400, too_large)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > self.limit:
                await send_error(send, 400, too_large)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)


def _without_body(receive: Receive) -> Receive:
    async def empty() -> Message:
        message = await receive()
        if message["type"] == "http.request":
            while message.get("more_body"):
                message = await receive()
            return {"type": "http.request", "body": b"", "more_body": False}
        return message

    return empty


@dataclass
class Faults:
    latency_seconds: float = 0.0
    error_rate: float = 0.0
    error_status: int = 503
    rng: random.Random = field(default_factory=lambda: random.Random(0), repr=False)

    def to_api(self) -> dict[str, Any]:
        return {
            "latencySeconds": self.latency_seconds,
            "errorRate": self.error_rate,
            "errorStatus": self.error_status,
        }


class FaultInjection:
    """Delays and fails Run:ai API calls as configured through the control API."""

    def __init__(self, app: ASGIApp, faults: Faults) -> None:
        self.app, self.faults = app, faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        faults = self.faults
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith(API_PREFIX) and not path.endswith("openapi.json"):
            if faults.latency_seconds:
                await asyncio.sleep(faults.latency_seconds)
            if faults.error_rate and faults.rng.random() < faults.error_rate:
                status = faults.error_status
                if status == 500 and (scope["method"], path.rstrip("/")) in _NO_500:
                    status = 503
                message = "Something went wrong." if status == 500 else "Please try again in few minutes."
                await send_error(send, status, message)
                return
        await self.app(scope, receive, send)

"""ASGI middleware around the Connexion app: app state, the body guard, fault injection."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.http.digits import plain_int
from mockserver.http.errorbody import error_bytes
from mockserver.http.limits import BODY_TIMEOUT_SECONDS, MAX_BODY_BYTES
from mockserver.http.routes import Operation, Routes

API_PREFIX = "/api/v1/"
# Set on the scope of a request replayed from the state file at start-up: no faults are injected into it.
REPLAYING = "mockserver.replaying"
# Operations that declare no 500 answer: an injected 500 there would break the contract.


async def send_error(
    send: Send, status: int, message: str, *, close: bool = False, extra: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    body = error_bytes(status, message)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            # After an unread body the connection cannot carry another request.
            "headers": [*headers, (b"connection", b"close")] if close else headers,
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


class BodyTimeout(Exception):
    """The client sent less body than it announced and then nothing, for longer than the bound."""


class BodyGuard:
    """Refuses bodies over 1 MiB with a 400 before anything parses them, a body without a content type
    with a 400, and a body that does not arrive in time with a 408; drops the body of an operation that
    takes none: Connexion would otherwise parse a stray form body and answer an undeclared 400 when it is
    malformed."""

    def __init__(
        self,
        app: ASGIApp,
        routes: Routes,
        limit: int = MAX_BODY_BYTES,
        timeout: float = BODY_TIMEOUT_SECONDS,
        signed_in: Callable[[str], bool] | None = None,
    ) -> None:
        self.app, self.routes, self.limit, self.timeout = app, routes, limit, timeout
        # Whether a bearer token is one the API accepts. A request to a secured Run:ai operation that
        # carries none is answered 401 (by Connexion's security layer) before anything about its body,
        # as a control plane behind its authentication answers a caller it does not know.
        self.signed_in = signed_in

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        receive = _deadline(receive, self.timeout)
        operation = self.routes.for_request(scope)
        takes_body = operation is not None and operation.takes_body
        headers = dict(scope["headers"]) if takes_body else {}
        if not takes_body or (b"content-type" not in headers and self._stranger(operation, scope, headers)):
            scope["headers"] = [
                (k, v) for k, v in scope["headers"] if k not in (b"content-type", b"content-length")
            ]
            try:
                await self.app(scope, _without_body(receive), send)
            except BodyTimeout:
                await send_error(send, 408, self._too_slow(), close=True)
            return
        if b"content-type" not in headers:
            # Connexion would hand the raw bytes to the handler; the operations declare 400 for bad requests.
            missing = "Content-Type header is missing; send the body as application/json"
            await send_error(send, 400, missing, close=b"content-length" in headers)
            return
        too_large = f"Request body is larger than the limit of {self.limit} bytes"
        length = plain_int(headers.get(b"content-length", b"").decode("latin-1"))
        if length is not None and length > self.limit:
            await send_error(send, 400, too_large, close=True)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            try:
                message = await receive()
            except BodyTimeout:
                await send_error(send, 408, self._too_slow(), close=True)
                return
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > self.limit:
                await send_error(send, 400, too_large, close=True)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)

    def _stranger(self, operation: Operation | None, scope: Scope, headers: dict[bytes, bytes]) -> bool:
        """A request to a secured Run:ai operation without a token the API accepts."""
        if self.signed_in is None or not scope["path"].startswith(API_PREFIX):
            return False
        if operation is None or not operation.secured:
            return False
        scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        return scheme.lower() != "bearer" or not self.signed_in(token.strip())

    def _too_slow(self) -> str:
        return f"Request body not received within {self.timeout:g} seconds"


_timeout_at = getattr(asyncio, "timeout_at", None)  # Python 3.11+


def _deadline(receive: Receive, timeout: float) -> Receive:
    """`receive` that raises BodyTimeout once the whole body has taken longer than `timeout`."""
    loop = asyncio.get_running_loop()
    ends = loop.time() + timeout
    done = False

    async def bounded() -> Message:
        nonlocal done
        if done:  # after the body, receive() waits for the disconnect: no deadline for that
            return await receive()
        try:
            if _timeout_at is not None:  # a timer on this task: wait_for would start a task per read
                async with _timeout_at(ends):
                    message = await receive()
            else:  # pragma: no cover - Python 3.10
                message = await asyncio.wait_for(receive(), max(0.0, ends - loop.time()))
        except asyncio.TimeoutError as error:
            raise BodyTimeout from error
        done = message["type"] != "http.request" or not message.get("more_body", False)
        return message

    return bounded


def _without_body(receive: Receive) -> Receive:
    async def empty() -> Message:
        message = await receive()
        if message["type"] == "http.request":
            while message.get("more_body"):
                message = await receive()
            return {"type": "http.request", "body": b"", "more_body": False}
        return message

    return empty


# Seconds an injected 503's `Retry-After` asks a client to wait.
FAULT_RETRY_AFTER_SECONDS = 1


@dataclass
class Faults:
    latency_seconds: float = 0.0
    error_rate: float = 0.0
    error_status: int = 503
    # False: the cluster is disconnected from the control plane (workloads show Unknown).
    cluster_connected: bool = True
    rng: random.Random = field(default_factory=lambda: random.Random(0), repr=False)

    def to_api(self) -> dict[str, Any]:
        return {
            "latencySeconds": self.latency_seconds,
            "errorRate": self.error_rate,
            "errorStatus": self.error_status,
            "clusterConnected": self.cluster_connected,
        }


class FaultInjection:
    """Delays and fails Run:ai API calls as configured through the control API, with statuses the
    operation documents only: the configured one, else 503, else 500; none of them, no failure."""

    def __init__(self, app: ASGIApp, faults: Faults, routes: Routes) -> None:
        self.app, self.faults, self.routes = app, faults, routes

    def _documented(self, method: str, path: str, wanted: int) -> int | None:
        return next((s for s in (wanted, 503, 500) if self.routes.documents(method, path, s)), None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        faults = self.faults
        path = scope.get("path", "")
        if (
            scope["type"] == "http"
            and path.startswith(API_PREFIX)
            and not path.endswith("openapi.json")
            and not scope.get(REPLAYING)
        ):
            if faults.latency_seconds:
                await asyncio.sleep(faults.latency_seconds)
            if faults.error_rate and faults.rng.random() < faults.error_rate:
                status = self._documented(scope["method"], path, faults.error_status)
                if status is not None:
                    message = "Something went wrong." if status == 500 else "Please try again in few minutes."
                    # A 503 says when to come back, as a gateway shedding load does (the audit checks it).
                    extra = (
                        [(b"retry-after", str(FAULT_RETRY_AFTER_SECONDS).encode())] if status == 503 else []
                    )
                    await send_error(send, status, message, extra=extra)
                    return
        await self.app(scope, receive, send)

"""Durable state as a command journal at the edge: record each mutating request, replay at start.

The simulation is deterministic for a seed and a sequence of requests at given virtual times, so
feeding the recorded requests through the same app (same parsing, same domain) rebuilds the same
trainings, loads, event log, faults and clock, and the id generator continues where it stopped.
Requests that change state are taken one at a time, so the journal's order is the order in which
the cluster saw them.

Write-ahead: the request is recorded (and on disk) before it runs; if the file cannot take it, the
client gets a 503 and the request does not run. What is recorded is what runs: the head was read
once (`requesthead.py` refuses duplicated deciding headers), the caller is resolved from the token
before the request runs and recorded as an application, and replay signs in as that application
with a token of its own, so it never depends on the recorded token still being valid.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.http.auth import TokenRejected, TokenService
from mockserver.http.middleware import REPLAYING, send_error
from mockserver.persistence.store import Command, StateFileError, StateStore, StateWriteError

MUTATING = frozenset({"POST", "PUT", "DELETE", "PATCH"})
# A token grant changes no state: tokens are signed, not stored.
_NOT_STATE = ("/api/v1/token",)
_RESET = "/api/mock/v1/reset"


def changes_state(scope: Scope) -> bool:
    return (
        scope["type"] == "http"
        and scope["method"] in MUTATING
        and scope["path"].rstrip("/") not in _NOT_STATE
        and not scope.get(REPLAYING)
    )


class Journal:
    """Commits every mutating request to the store before it runs; a refused one is dropped later."""

    def __init__(
        self,
        app: ASGIApp,
        store: StateStore,
        now: Callable[[], float],
        hold: Callable[[float | None], None],
        tokens: TokenService,
        on_reset: Callable[[], None],
    ) -> None:
        self.app, self.store, self.now, self.hold = app, store, now, hold
        self.tokens, self.on_reset = tokens, on_reset
        self._one_at_a_time = asyncio.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not changes_state(scope):
            await self.app(scope, receive, send)
            return
        body = await _whole_body(receive)
        headers = dict(scope["headers"])
        client_id = self._client_id(headers.get(b"authorization"))
        async with self._one_at_a_time:
            before = self.now()
            command = Command(
                before=before,
                after=None,
                method=scope["method"],
                path=scope["path"],
                query=scope.get("query_string", b"").decode("latin-1"),
                content_type=_text(headers.get(b"content-type")),
                body=body,
                client_id=client_id,
            )
            try:
                seq = self.store.begin(command)
            except StateWriteError as error:
                message = (
                    f"The state file could not be written ({error}); the request was not carried out. "
                    "Free the disk and send it again"
                )
                await send_error(send, 503, message)
                return
            self.hold(before)  # a realtime clock stands still while the change runs
            status: int | None = None

            async def answered(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    self.store.settle(seq, command, status, self.now())
                    if 200 <= status < 300 and scope["path"].rstrip("/") == _RESET:
                        self.on_reset()
                await send(message)

            try:
                await self.app(scope, _replay_body(body, receive), answered)
            finally:
                if status is None:  # it failed before answering: replay runs it as sent
                    self.store.settle(seq, command, None, self.now())
                self.hold(None)

    def _client_id(self, authorization: bytes | None) -> str | None:
        scheme, _, token = (authorization or b"").decode("latin-1").partition(" ")
        if scheme.lower() != "bearer":
            return None
        try:
            return self.tokens.verify(token).client_id
        except TokenRejected:
            return None  # the control token of an exposed server: no application


async def replay(
    app: ASGIApp,
    store: StateStore,
    tokens: TokenService,
    pin: Callable[[Command], None],
    control_token: str | None = None,
) -> int:
    """Feed every recorded command through `app` again; `pin` sets the clock to the command's time."""
    count = 0
    minted: dict[str | None, bytes | None] = {}  # one token per application for the whole replay
    for command in store.commands():
        pin(command)
        if command.client_id not in minted:
            minted[command.client_id] = _authorization(command, tokens, control_token)
        status = await _call(app, command, minted[command.client_id])
        # A row without an outcome (the last one, after a kill -9) may have been refused: so be it.
        if command.status is not None and not 200 <= status < 300:
            raise StateFileError(
                f"{store.path}: command {command.seq} ({command.method} {command.path}) was accepted when "
                f"recorded but answers {status} on replay; the file does not match this server"
            )
        count += 1
    return count


def _authorization(command: Command, tokens: TokenService, control_token: str | None) -> bytes | None:
    if command.client_id is not None:
        account = next((a for a in tokens.accounts if a.client_id == command.client_id), None)
        if account is None:
            raise StateFileError(
                f"command {command.seq} was sent by {command.client_id}, no longer an account"
            )
        return f"Bearer {tokens.issue(account)}".encode()
    return f"Bearer {control_token}".encode() if control_token else None


async def _call(app: ASGIApp, command: Command, authorization: bytes | None) -> int:
    headers = [(b"host", b"replay")]
    if command.content_type is not None:
        headers.append((b"content-type", command.content_type.encode("latin-1")))
    if command.body:
        headers.append((b"content-length", str(len(command.body)).encode()))
    if authorization is not None:
        headers.append((b"authorization", authorization))
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": command.method,
        "scheme": "http",
        "path": command.path,
        "raw_path": command.path.encode("utf-8"),
        "root_path": "",
        "query_string": command.query.encode("latin-1"),
        "headers": headers,
        "client": ("127.0.0.1", 0),
        "server": ("127.0.0.1", 0),
        "state": {},
        REPLAYING: True,
    }
    status = 0

    async def receive() -> Message:
        return {"type": "http.request", "body": command.body, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])

    await app(scope, receive, send)
    return status


async def _whole_body(receive: Receive) -> bytes:
    chunks, more = [], True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


def _replay_body(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def once() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return once


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")

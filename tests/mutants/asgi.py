"""An ASGI wrapper that lets a mutant rewrite the fake's requests and answers, buffering both.

The fake stays untouched: a mutant only sees HTTP, like a client would, except that it may keep a little
state of its own (which trainings it pretended to suspend, for example).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/v1/") and not self.path.endswith("openapi.json")


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    def with_json(self, data: Any, status: int | None = None) -> Answer:
        body = json.dumps(data).encode()
        headers = {**self.headers, "content-type": "application/json", "content-length": str(len(body))}
        return replace(self, status=self.status if status is None else status, headers=headers, body=body)


class Mutant:
    """A broken backend: override either hook. `request` may answer by itself instead of forwarding."""

    name = ""
    defect = ""
    # Checks of ours or Schemathesis' whose finding names this defect; the run must report one of them.
    caught_by: tuple[str, ...] = ()
    # The part of a `contracts run` whose checks judge what this defect breaks (the phases and scenarios
    # that send the requests it spoils): a whole run per mutant cost minutes each, and proved no more.
    run: tuple[str, ...] = ()

    def bind(self, state: Any) -> None:
        """Called once with the fake's state object, for mutants that need its token service."""

    def request(self, request: Request) -> Request | Answer:
        return request

    def answer(self, request: Request, answer: Answer) -> Answer:
        return answer


class MutantMiddleware:
    def __init__(self, app: ASGIApp, mutant: Mutant) -> None:
        self.app = app
        self.mutant = mutant

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        request = Request(scope["method"], scope["path"], headers, body)
        changed = self.mutant.request(request)
        if isinstance(changed, Answer):
            await _send(send, self.mutant.answer(request, changed))
            return
        request_headers = {k: v for k, v in changed.headers.items() if k != "content-length"}
        if changed.body:
            request_headers["content-length"] = str(len(changed.body))
        forwarded = {
            **scope,
            "method": changed.method,
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in request_headers.items()],
        }
        if changed.path != request.path:
            forwarded.update(path=changed.path, raw_path=quote(changed.path).encode("ascii"))
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": changed.body, "more_body": False}

        captured: dict[str, Any] = {"status": 500, "headers": {}, "body": b""}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = {
                    k.decode("latin-1").lower(): v.decode("latin-1") for k, v in message.get("headers", [])
                }
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")

        await self.app(forwarded, replay, capture)
        answer = Answer(captured["status"], captured["headers"], captured["body"])
        await _send(send, self.mutant.answer(changed, answer))


async def _send(send: Send, answer: Answer) -> None:
    headers = {k: v for k, v in answer.headers.items() if k != "content-length"}
    headers["content-length"] = str(len(answer.body))
    await send(
        {
            "type": "http.response.start",
            "status": answer.status,
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
        }
    )
    await send({"type": "http.response.body", "body": answer.body})

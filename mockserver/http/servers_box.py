"""Fills the Swagger UI "Servers" box (read from `openapi.json`) of an API served at the root.

Connexion rewrites a document's `servers` to its base path, which for the Run:ai API (`servers: [{url:
/}]`) is the empty string: Swagger UI then shows an empty box. The served document gets `/` back,
described, so "Try it out" visibly targets this server.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DESCRIPTION = "this mock server"


def filled(document: dict[str, Any]) -> dict[str, Any]:
    servers = document.get("servers")
    if isinstance(servers, list) and servers and all(s.get("url", "") == "" for s in servers):
        document["servers"] = [{"url": "/", "description": DESCRIPTION}]
    return document


class ServersBox:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope["method"] != "GET" or not path.endswith("/openapi.json"):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        body = bytearray()

        async def buffered(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            body.extend(message.get("body", b""))
            if message.get("more_body") or start is None:
                return
            content = bytes(body)
            if start["status"] == 200:
                content = self._rewrite(content)
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(content)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": content})

        await self.app(scope, receive, buffered)

    @staticmethod
    def _rewrite(content: bytes) -> bytes:
        try:
            document = json.loads(content)
        except ValueError:
            return content
        return json.dumps(filled(document)).encode() if isinstance(document, dict) else content

"""`Prefer: code=NNN` (Prism's convention): answer with one of the operation's documented error statuses.

For testing a client's error paths one request at a time, next to the random fault injection. The
documented statuses and their messages come from the contracts being served, so `--api latest` and
2.18 each force only what their own document declares. A code the operation does not declare is refused
with a 400 that lists the ones it does; a documented success code just lets the request through.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.middleware import send_error

_METHODS = {"get", "put", "post", "delete", "patch"}
_CODE = re.compile(r"(?:^|[,;\s])code\s*=\s*\"?([^\s,;\"]*)", re.IGNORECASE)


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    answers: dict[int, str]  # documented status -> the message its example shows

    def errors(self) -> list[int]:
        return sorted(code for code in self.answers if code >= 400)


def _resolve(spec: dict[str, Any], item: Any) -> Any:
    while isinstance(item, dict) and "$ref" in item:
        target: Any = spec
        for part in item["$ref"].lstrip("#/").split("/"):
            target = target[part]
        item = target
    return item


def _example_message(spec: dict[str, Any], response: Any, status: int) -> str:
    response = _resolve(spec, response)
    for media in (response.get("content") or {}).values():
        example = _resolve(spec, media.get("example"))
        if isinstance(example, dict) and isinstance(example.get("message"), str):
            return str(example["message"])
    return HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else f"Status {status}"


def documented_operations(specs: Iterable[dict[str, Any]]) -> list[Operation]:
    operations = []
    for spec in specs:
        base = spec.get("servers", [{}])[0].get("url", "/").rstrip("/")
        for template, item in spec.get("paths", {}).items():
            pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(base + template)) + "/?$")
            for method, operation in item.items():
                if method not in _METHODS:
                    continue
                answers = {
                    int(code): _example_message(spec, response, int(code))
                    for code, response in operation.get("responses", {}).items()
                    if str(code).isdigit()
                }
                operations.append(Operation(method.upper(), base + template, pattern, answers))
    return operations


def requested_code(prefer: str) -> str | None:
    """The value of `code=` among the header's preferences (`respond-async, code=404`), if any."""
    found = _CODE.search(prefer)
    return found.group(1) if found else None


class PreferCode:
    def __init__(self, app: ASGIApp, specs: Iterable[dict[str, Any]]) -> None:
        self.app = app
        self.operations = documented_operations(specs)

    def _operation(self, method: str, path: str) -> Operation | None:
        return next((o for o in self.operations if o.method == method and o.pattern.match(path)), None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        prefer = dict(scope.get("headers", [])).get(b"prefer") if scope["type"] == "http" else None
        code = requested_code(prefer.decode("latin-1")) if prefer else None
        operation = self._operation(scope["method"], scope["path"]) if code is not None else None
        if code is None or operation is None:
            await self.app(scope, receive, send)
            return
        documented = ", ".join(map(str, operation.errors())) or "none"
        where = f"{operation.method} {operation.template}"
        if not code.isdigit() or int(code) not in operation.answers:
            await send_error(
                send,
                400,
                f"Prefer: code={code} is not a documented answer of {where}; its documented error codes are "
                f"{documented}",
            )
            return
        status = int(code)
        if status < 400:  # a documented success: nothing to force, the request is served as usual
            await self.app(scope, receive, send)
            return
        await send_error(send, status, operation.answers[status])

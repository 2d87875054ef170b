"""The operations clients call in loops, answered on a path compiled once at start from the same contract.

Connexion's per-request stack (Swagger UI routing, routing, security, request validation, the parameter
and response decorators) is about 90 % of a request's cost, and it rebuilds its schema validators on
every request. For reading a training, creating one and reading a workload this middleware does the
same checks with what it compiled at start from the same document: the routes, the path parameters'
and the body's Draft 4 validators (the classes and format checker Connexion uses), and the bearer check
through the same verification function, each verified token remembered until it expires.

It answers only requests it would accept. Anything it would refuse — no or a bad token, a malformed id,
a body that is not UTF-8 JSON matching the schema, another content type, a path that another template
also matches — goes on to Connexion untouched (a body it read is replayed), so every refusal is
Connexion's own answer. Accepted requests run the same handlers (and so the same parsing and views),
with the same request context; their answers are built by Connexion's own response code, and a domain
error a handler raises reaches Connexion's exception middleware, which sits outside this one.
tests/perf compares the two paths answer for answer.
"""

from __future__ import annotations

import base64
import inspect
import json
import re
import time
from collections.abc import Awaitable, Callable
from contextvars import Token
from dataclasses import dataclass
from typing import Any

from connexion.context import _context, _operation, _receive, _scope
from connexion.decorators.response import AsyncResponseDecorator
from connexion.frameworks.starlette import Starlette as StarletteFramework
from connexion.json_schema import Draft4RequestValidator
from connexion.jsonifier import Jsonifier
from connexion.operations import OpenAPIOperation
from connexion.resolver import Resolver
from connexion.spec import Specification
from jsonschema import Draft4Validator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.jsonsafe import UnsafeJson, loads

# operationIds served here: the reads clients poll and the create they loop over.
HOT_OPERATIONS = frozenset({"get_training", "create_training1", "get_workload"})
# Verified tokens remembered at once; a full cache starts over (only this server can mint valid ones).
MAX_CACHED_TOKENS = 4096
_METHODS = ("get", "put", "post", "delete", "patch")
_JSON = b"application/json"

TokenInfo = dict[str, Any]


@dataclass(frozen=True)
class HotOperation:
    operation: OpenAPIOperation
    method: str
    pattern: re.Pattern[str]
    handler: Callable[..., Awaitable[Any]]
    path_checks: tuple[tuple[str, Draft4Validator], ...]
    body: Draft4Validator | None  # None: the operation takes no body

    def path_arguments(self, match: re.Match[str]) -> dict[str, str] | None:
        """The path parameters, or None when one breaks its schema (Connexion then answers)."""
        values = match.groupdict()
        for name, validator in self.path_checks:
            if not validator.is_valid(values[name]):
                return None
        return values


def _pattern(template: str) -> re.Pattern[str]:
    # Starlette's `{name}` matches one non-empty segment; the whole path must match.
    escaped = re.escape(template)
    return re.compile(re.sub(r"\\\{([A-Za-z_][A-Za-z0-9_]*)\\\}", r"(?P<\1>[^/]+)", escaped))


def _hot(operation: OpenAPIOperation, handler: Callable[..., Any]) -> bool:
    """Served here only when every check the operation needs is one this module makes."""
    bearer_only = [
        name
        for requirement in operation.security or []
        for name in requirement
        if operation.security_schemes.get(name, {}).get("scheme", "").lower() == "bearer"
    ]
    path_strings = all(
        p["in"] == "path"
        and p.get("schema", {}).get("type") == "string"
        and not p.get("schema", {}).get("nullable")
        for p in operation.parameters
    )
    return (
        inspect.iscoroutinefunction(handler)
        and operation.security == [{name: []} for name in bearer_only]
        and len(bearer_only) == 1
        and path_strings
        and set(operation.consumes) <= {"application/json"}
    )


def compile_operations(spec: dict[str, Any], handlers: Resolver) -> tuple[list[HotOperation], list[Any]]:
    """The hot operations of one contract, and every (method, pattern) of it for the ambiguity check."""
    resolved = Specification.load(spec)  # $refs resolved as Connexion resolves them
    base = spec.get("servers", [{}])[0].get("url", "/").rstrip("/")
    hot: list[HotOperation] = []
    every: list[tuple[str, re.Pattern[str]]] = []
    for template, item in resolved["paths"].items():
        for method in _METHODS:
            if method not in item:
                continue
            pattern = _pattern(base + template)
            every.append((method.upper(), pattern))
            if item[method].get("operationId") not in HOT_OPERATIONS:
                continue
            operation = OpenAPIOperation.from_spec(resolved, path=template, method=method, resolver=handlers)
            handler = operation.function
            if not _hot(operation, handler):
                continue
            body_schema = operation.body_schema("application/json")
            hot.append(
                HotOperation(
                    operation=operation,
                    method=method.upper(),
                    pattern=pattern,
                    handler=handler,
                    path_checks=tuple(
                        (
                            p["name"],
                            Draft4Validator(p["schema"], format_checker=Draft4Validator.FORMAT_CHECKER),
                        )
                        for p in operation.parameters
                    ),
                    body=(
                        Draft4RequestValidator(body_schema, format_checker=Draft4Validator.FORMAT_CHECKER)
                        if body_schema
                        else None
                    ),
                )
            )
    return hot, every


def _expiry(token: str) -> float:
    """`exp` of a token the verification function has just accepted (so its payload is sound)."""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return float(claims["exp"])


class TokenCache:
    """Bearer verification remembered per token until the token expires."""

    def __init__(self, verify: Callable[[str], TokenInfo], clock: Callable[[], float] = time.time) -> None:
        self.verify, self.clock = verify, clock
        self._known: dict[str, tuple[TokenInfo, float]] = {}

    def token_info(self, headers: list[tuple[bytes, bytes]]) -> TokenInfo | None:
        """What the verification function says of the request's bearer token; None for anything else."""
        # As Connexion reads it: the first Authorization header, "<type> <token>", type any case.
        authorization = next((v for k, v in headers if k == b"authorization"), b"").decode("latin-1")
        parts = authorization.split(maxsplit=1)
        if len(parts) != 2 or parts[0].lower() != "bearer":
            return None
        token = parts[1]
        known = self._known.get(token)
        if known is not None:
            if known[1] > self.clock():
                return known[0]
            del self._known[token]
        try:
            info = self.verify(token)
        except Exception:  # refused: Connexion asks again and answers with the refusal
            return None
        if len(self._known) >= MAX_CACHED_TOKENS:
            self._known.clear()
        self._known[token] = (info, _expiry(token))
        return info


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


class FastPath:
    """ASGI middleware in front of Connexion's stack (inside its exception middleware)."""

    def __init__(
        self,
        app: ASGIApp,
        spec: dict[str, Any],
        verify: Callable[[str], TokenInfo],
        resolver: Resolver,
        jsonifier: Jsonifier | None = None,
    ) -> None:
        self.app = app
        self.hot, self._every = compile_operations(spec, resolver)
        self.tokens = TokenCache(verify)
        self.served = 0  # answers given here: the differential tests check the fast path really ran
        # AsyncApp's own default when an API is added without one, as create_app adds them.
        self._respond = AsyncResponseDecorator(
            framework=StarletteFramework, jsonifier=jsonifier or Jsonifier()
        )

    def _route(self, method: str, path: str) -> tuple[HotOperation, re.Match[str]] | None:
        for hot in self.hot:
            if hot.method == method and (match := hot.pattern.fullmatch(path)):
                # Another template that also takes this path and method: the router decides, not us.
                others = sum(1 for m, p in self._every if m == method and p.fullmatch(path))
                return (hot, match) if others == 1 else None
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self._route(scope["method"], scope["path"]) if scope["type"] == "http" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        hot, match = found
        info = self.tokens.token_info(scope["headers"])
        arguments: dict[str, Any] | None = hot.path_arguments(match) if info is not None else None
        if arguments is None or info is None:
            await self.app(scope, receive, send)
            return
        if hot.body is not None:
            messages, body = await self._body(hot.body, scope, receive)
            if body is None:
                await self.app(scope, _replay(messages, receive), send)
                return
            arguments["body"] = body
        context = {"user": info.get("sub", info.get("uid")), "token_info": info}
        tokens: tuple[Token[Any], ...] = (
            _scope.set(scope),
            _receive.set(receive),
            _context.set(context),
            _operation.set(hot.operation),
        )
        try:
            response = self._respond.build_framework_response(await hot.handler(**arguments))
        finally:
            for var, token in zip((_scope, _receive, _context, _operation), tokens, strict=True):
                var.reset(token)
        self.served += 1
        await response(scope, receive, send)

    @staticmethod
    async def _body(
        validator: Draft4Validator, scope: Scope, receive: Receive
    ) -> tuple[list[Message], Any | None]:
        """The messages read, and the parsed body when Connexion would accept it (else None)."""
        messages: list[Message] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        content_type = next((v for k, v in scope["headers"] if k == b"content-type"), None)
        if content_type != _JSON or messages[-1]["type"] != "http.request":
            return messages, None
        try:
            body = loads(b"".join(m.get("body", b"") for m in messages).decode("utf-8"))
        except (UnicodeDecodeError, UnsafeJson):
            return messages, None
        if body is None or not validator.is_valid(body):
            return messages, None
        return messages, body

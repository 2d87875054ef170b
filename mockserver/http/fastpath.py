"""The operations clients call in loops, answered on a path compiled once at start from the same contract.

Connexion's per-request stack (Swagger UI routing, routing, security, request validation, the parameter
and response decorators) is about 90 % of a request's cost, and it rebuilds its schema validators on
every request. For the operations clients call in loops (`HOT_OPERATIONS`: creating, reading, suspending,
resuming and deleting a workload of each kind, reading a workload, the workload list and its count) this
middleware does the same checks with what it compiled at start from the same document: the routes, the path
parameters' Draft 4 validators (the classes and format checker Connexion uses), the query string read
by Connexion's own URI parser and checked with validators built once (`QueryReader`), the body's schema
compiled to Python (mockserver/http/schemacheck.py: the same rules and format checker as Connexion's
validator, which is kept for any schema it does not compile), and the bearer check through the same
verification function, each verified token remembered until it expires. The body is read as jsonsafe
reads it (one scan fewer when its bounds cannot be crossed) and the answer written with one JSON encoder
made once.

It answers the requests it would accept, and one kind of refusal: a JSON body, sent with its length, that
its schema refuses (most of what a fuzzer sends) raises here what Connexion's request validation raises
for it, from the same body validator class (the app's validator map), made once rather than per request,
and Connexion's exception middleware answers. Anything else it would refuse — no or a bad token, a
malformed id, a query parameter its schema refuses, a body that is not UTF-8 JSON, another content type, a
body without its length, a path that an earlier template also matches — goes on to Connexion untouched (a
body it read is replayed), so every refusal is Connexion's own answer. Accepted requests run the same
handlers (and so the same parsing and views), with the same request context; their answers are built by
Connexion's own response code, and a domain error a handler raises reaches Connexion's exception
middleware, which sits outside this one. tests/perf compares the two paths answer for answer.
"""

from __future__ import annotations

import base64
import copy
import inspect
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from contextvars import Token
from dataclasses import dataclass, field
from typing import Any

from connexion.context import _context, _operation, _receive, _scope
from connexion.decorators.parameter import _get_query_arguments, sanitized, unwrap_decorators
from connexion.decorators.response import AsyncResponseDecorator
from connexion.frameworks.starlette import Starlette as StarletteFramework
from connexion.json_schema import Draft4RequestValidator
from connexion.jsonifier import JSONEncoder, Jsonifier
from connexion.lifecycle import ConnexionResponse
from connexion.operations import OpenAPIOperation
from connexion.resolver import Resolver
from connexion.spec import Specification
from connexion.uri_parsing import AbstractURIParser
from connexion.utils import inspect_function_arguments, is_null, is_nullable
from jsonschema import Draft4Validator
from starlette.datastructures import QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.http.jsonsafe import MAX_DEPTH, MAX_NUMBER_CHARS, UnsafeJson, loads, parse_bounded
from mockserver.http.jsontext import answer_text
from mockserver.http.routes import Operation, Routes, served_as_is
from mockserver.http.schemacheck import compile_check

MAX_CHECKED_VALUES = 65536
# Query strings remembered per operation with what they read as (lists are polled with the same one);
# longer ones are read every time, so the memory stays within a few MiB whatever clients send.
MAX_CHECKED_QUERIES = 4096
MAX_REMEMBERED_QUERY = 512
# Verified tokens remembered at once; a full cache starts over (only this server can mint valid ones).
MAX_CACHED_TOKENS = 4096
_JSON = b"application/json"
_LONG_DIGITS = re.compile(rf"[0-9]{{{MAX_NUMBER_CHARS + 1}}}")

TokenInfo = dict[str, Any]
log = logging.getLogger("mockserver")


@dataclass(frozen=True)
class QueryReader:
    """An operation's query string read as Connexion reads it, or None where Connexion would refuse it.

    The same steps with the same functions: Starlette's parse of the query string, the operation's URI
    parser (duplicates, arrays, types), each declared parameter checked as Connexion's parameter validator
    checks it (its schema with the Draft 4 validator and format checker, built once here), and the
    handler's arguments picked by Connexion's own `_get_query_arguments` (defaults filled in). A query
    string reads the same every time, so its reading is remembered."""

    parser: AbstractURIParser
    checks: tuple[tuple[dict[str, Any], Draft4Validator], ...]
    operation: OpenAPIOperation
    arguments: list[str]
    has_kwargs: bool
    known: dict[bytes, dict[str, Any] | None] = field(default_factory=dict)

    @classmethod
    def of(cls, operation: OpenAPIOperation, handler: Callable[..., Any]) -> QueryReader:
        query = [p for p in operation.parameters if p["in"] == "query"]
        checks = tuple(
            (p, Draft4Validator(p.get("schema", p), format_checker=Draft4Validator.FORMAT_CHECKER))
            for p in query
        )
        arguments, has_kwargs = inspect_function_arguments(unwrap_decorators(handler))
        parser = operation.uri_parser_class(operation.parameters, operation.body_definition())
        return cls(parser, checks, operation, arguments, has_kwargs)

    def read(self, query_string: bytes) -> dict[str, Any] | None:
        """The handler's query arguments (a copy of its own: handlers may change what they get)."""
        if len(query_string) > MAX_REMEMBERED_QUERY:
            return self._read(query_string)
        if query_string not in self.known:
            if len(self.known) >= MAX_CHECKED_QUERIES:
                self.known.clear()
            self.known[query_string] = self._read(query_string)
        found = self.known[query_string]
        return copy.deepcopy(found) if found is not None else None

    def _read(self, query_string: bytes) -> dict[str, Any] | None:
        try:
            return self._arguments(query_string)
        except Exception:  # Connexion's stack meets the same error and answers it
            return None

    def _arguments(self, query_string: bytes) -> dict[str, Any] | None:
        args = QueryParams(query_string)
        values = self.parser.resolve_query({k: args.getlist(k) for k in args})
        for param, validator in self.checks:
            value = values.get(param["name"])
            if is_nullable(param) and is_null(value):
                continue
            if value is not None:
                if not validator.is_valid(value):
                    return None
            elif param.get("required"):
                return None
        found: dict[str, Any] = _get_query_arguments(
            values,
            operation=self.operation,
            arguments=self.arguments,
            has_kwargs=self.has_kwargs,
            sanitize=sanitized,
        )
        return found


@dataclass(frozen=True)
class HotOperation:
    route: Operation  # its row of the route table: method, path pattern, rival templates
    operation: OpenAPIOperation
    handler: Callable[..., Awaitable[Any]]
    path_checks: tuple[tuple[str, Draft4Validator], ...]
    body: Callable[[Any], bool] | None  # whether a body is valid for the schema; None: it takes no body
    # Raises what Connexion's request validation raises for a parsed body the schema refuses (None: such a
    # body goes on to Connexion).
    refuse: Callable[[Any], Any] | None
    json_only: bool  # it produces only application/json: Connexion's answer is JSON text plus a newline
    query: QueryReader | None  # None: it declares no query parameter (any query string is ignored)
    # Path values already checked: ids are polled over and over, and the check is pure.
    checked: dict[tuple[str, str], bool] = field(default_factory=dict)

    def path_arguments(self, match: re.Match[str]) -> dict[str, str] | None:
        """The path parameters, or None when one breaks its schema (Connexion then answers)."""
        values = match.groupdict()
        for name, validator in self.path_checks:
            key = (name, values[name])
            valid = self.checked.get(key)
            if valid is None:
                if len(self.checked) >= MAX_CHECKED_VALUES:
                    self.checked.clear()
                valid = self.checked[key] = validator.is_valid(values[name])
            if not valid:
                return None
        return values


def _hot(operation: OpenAPIOperation, handler: Callable[..., Any]) -> bool:
    """Served here only when every check the operation needs is one this module makes."""
    bearer_only = [
        name
        for requirement in operation.security or []
        for name in requirement
        if operation.security_schemes.get(name, {}).get("scheme", "").lower() == "bearer"
    ]
    path_strings = all(
        p["in"] == "query"
        or (
            p["in"] == "path"
            and p.get("schema", {}).get("type") == "string"
            and not p.get("schema", {}).get("nullable")
        )
        for p in operation.parameters
    )
    return (
        inspect.iscoroutinefunction(handler)
        and operation.security == [{name: []} for name in bearer_only]
        and len(bearer_only) == 1
        and path_strings
        and set(operation.consumes) <= {"application/json"}
    )


def compile_operations(
    spec: dict[str, Any], handlers: Resolver, routes: Routes | None = None, body_validator: type | None = None
) -> list[HotOperation]:
    """The hot operations of one contract, from the route table compiled for it (or one compiled here).
    `body_validator`: the class Connexion's request validation checks a JSON body with (the app's
    validator map), to refuse here what it would refuse."""
    table = routes if routes is not None and routes.hot(spec) else Routes([spec])
    resolved = Specification.load(spec)  # $refs resolved as Connexion resolves them
    hot: list[HotOperation] = []
    for route in table.hot(spec):
        method = route.method.lower()
        operation = OpenAPIOperation.from_spec(resolved, path=route.path, method=method, resolver=handlers)
        names = {p["name"] for p in operation.parameters if p["in"] == "path"}
        if not _hot(operation, operation.function) or names != set(route.pattern.groupindex):
            continue
        has_query = any(p["in"] == "query" for p in operation.parameters)
        body_schema = operation.body_schema("application/json")
        hot.append(
            HotOperation(
                route=route,
                operation=operation,
                handler=operation.function,
                path_checks=tuple(
                    (p["name"], Draft4Validator(p["schema"], format_checker=Draft4Validator.FORMAT_CHECKER))
                    for p in operation.parameters
                    if p["in"] == "path"
                ),
                body=_body_check(body_schema) if body_schema else None,
                refuse=_refusal(operation, body_schema, body_validator)
                if body_schema and body_validator
                else None,
                json_only=sorted(set(operation.produces)) == ["application/json"],
                query=QueryReader.of(operation, operation.function) if has_query else None,
            )
        )
    return hot


def _refusal(operation: OpenAPIOperation, schema: dict[str, Any], validator: type) -> Callable[[Any], Any]:
    """The body validator Connexion's request validation makes for this operation, made once, as it makes
    it (its `_validate` raises the refusal, or returns when the body is valid after all)."""
    made = validator(
        schema=schema,
        required=operation.request_body.get("required", False),
        nullable=is_nullable(operation.body_definition(_JSON.decode())),
        encoding="utf-8",
        strict_validation=False,
    )
    check: Callable[[Any], Any] = made._validate
    return check


def _body_check(schema: dict[str, Any]) -> Callable[[Any], bool]:
    """The body's schema compiled to Python when it can be; else the validator Connexion builds for it."""
    checker = Draft4Validator.FORMAT_CHECKER
    compiled = compile_check(schema, Draft4RequestValidator, checker)
    if compiled is not None:
        return compiled
    is_valid: Callable[[Any], bool] = Draft4RequestValidator(schema, format_checker=checker).is_valid
    return is_valid


def _expiry(token: str) -> float:
    """`exp` of a token the verification function has just accepted (so its payload is sound)."""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return float(claims["exp"])


class TokenCache:
    """Bearer verification remembered per token until the token expires."""

    def __init__(self, verify: Callable[[str], TokenInfo], clock: Callable[[], float] = time.time) -> None:
        self.verify, self.clock = verify, clock
        # Keyed by the header as sent: a hit costs one dict look-up.
        self._known: dict[bytes, tuple[TokenInfo, float]] = {}

    def token_info(self, headers: list[tuple[bytes, bytes]]) -> TokenInfo | None:
        """What the verification function says of the request's bearer token; None for anything else."""
        # As Connexion reads it: the first Authorization header, "<type> <token>", type any case.
        raw = next((v for k, v in headers if k == b"authorization"), b"")
        known = self._known.get(raw)
        if known is not None:
            if known[1] > self.clock():
                return known[0]
            del self._known[raw]
        parts = raw.decode("latin-1").split(maxsplit=1)
        if len(parts) != 2 or parts[0].lower() != "bearer":
            return None
        token = parts[1]
        try:
            info = self.verify(token)
        except Exception:  # refused: Connexion asks again and answers with the refusal
            return None
        if len(self._known) >= MAX_CACHED_TOKENS:
            self._known.clear()
        self._known[raw] = (info, _expiry(token))
        return info


def _plain_json(result: Any) -> tuple[dict[str, Any] | list[Any], int] | None:
    """A handler's `(dict or list, status)` with a status whose answer has a body; None for anything else."""
    if (
        isinstance(result, tuple)
        and len(result) == 2
        and isinstance(result[0], (dict, list))
        and type(result[1]) is int
        and result[1] in (200, 201, 202)
    ):
        return result[0], result[1]
    return None


def _loads(text: str) -> Any:
    """jsonsafe.loads for a text its bounds certainly pass: with no more brackets than it allows levels
    and no digit run longer than it allows anywhere (inside strings too), its depth and digit scans
    cannot refuse, and what remains is the same json.loads with the same hooks. Any other text: loads."""
    if text.count("{") + text.count("[") > MAX_DEPTH or _LONG_DIGITS.search(text):
        return loads(text)
    return parse_bounded(text)


def _sized(scope: Scope) -> bool:
    """Whether the request says its body's length: Connexion reads a body without one as no body at all."""
    length = next((v for k, v in scope["headers"] if k == b"content-length"), b"")
    return length.isdigit() and int(length) > 0


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
        routes: Routes | None = None,
        body_validator: type | None = None,
    ) -> None:
        self.app = app
        self.routes = routes if routes is not None else Routes([spec])
        try:
            self.hot = compile_operations(spec, resolver, self.routes, body_validator)
        except (AttributeError, TypeError, KeyError, ValueError) as error:
            # Compiling leans on private Connexion and jsonschema APIs: if they changed, serve everything
            # through Connexion rather than not at all.
            log.warning("fast path off, Connexion answers every request: a dependency changed (%r)", error)
            self.hot = []
        self._by_route = {hot.route: hot for hot in self.hot}  # Operation rows hash by identity
        self.tokens = TokenCache(verify)
        self.served = 0  # answers given here: the differential tests check the fast path really ran
        self.refused = 0  # bodies refused here with Connexion's own refusal
        # AsyncApp's own default when an API is added without one, as create_app adds them.
        self.jsonifier = jsonifier or Jsonifier()
        self._respond = AsyncResponseDecorator(framework=StarletteFramework, jsonifier=self.jsonifier)
        # The default Jsonifier writes what `answer_text` writes, with an encoder made once (jsontext.py).
        default = self.jsonifier.json is json and self.jsonifier.dumps_args == {"cls": JSONEncoder}
        self._dumps: Callable[[Any], str] = answer_text if default else self.jsonifier.dumps

    def _route(self, method: str, path: str) -> tuple[HotOperation, re.Match[str]] | None:
        """The hot operation the route table finds for the request, and its path's match; None when the
        router would redirect the spelling, or an earlier template of the method also takes the path (the
        router takes that one)."""
        return self._hot_route(self.routes.operation(method, path), path)

    def _hot_route(self, route: Operation | None, path: str) -> tuple[HotOperation, re.Match[str]] | None:
        hot = self._by_route.get(route) if route is not None else None
        if hot is None or not served_as_is(path):
            return None
        rivals = hot.route.rivals
        if rivals is not None and rivals.match(path):
            return None
        match = hot.route.pattern.match(path)
        return (hot, match) if match is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = (
            self._hot_route(self.routes.for_request(scope), scope["path"])
            if scope["type"] == "http"
            else None
        )
        if found is None:
            await self.app(scope, receive, send)
            return
        hot, match = found
        info = self.tokens.token_info(scope["headers"])
        arguments: dict[str, Any] | None = hot.path_arguments(match) if info is not None else None
        if arguments is None or info is None:
            await self.app(scope, receive, send)
            return
        if hot.query is not None:
            query = hot.query.read(scope["query_string"])
            if query is None:
                await self.app(scope, receive, send)
                return
            arguments.update(query)
        if hot.body is not None:
            messages, body, valid = await self._body(hot.body, scope, receive)
            if body is not None and not valid and hot.refuse is not None and _sized(scope):
                self.refused += 1
                hot.refuse(body)  # raises Connexion's refusal (its exception middleware answers)
            if body is None or not valid:
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
            result = await hot.handler(**arguments)
            plain = _plain_json(result) if hot.json_only else None
            response = None if plain else self._framework_response(result)
        finally:
            for var, token in zip((_scope, _receive, _context, _operation), tokens, strict=True):
                var.reset(token)
        self.served += 1
        if response is not None:
            await response(scope, receive, send)
            return
        assert plain is not None
        # What Connexion's response decorator and Starlette's Response send for (dict, status).
        content = self._dumps(plain[0]).encode("utf-8")
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
        await send({"type": "http.response.start", "status": plain[1], "headers": headers})
        await send({"type": "http.response.body", "body": content})

    def _framework_response(self, result: Any) -> Any:
        """What Connexion's response decorator makes of any other handler result (its three cases)."""
        if StarletteFramework.is_framework_response(result):
            return result
        if isinstance(result, ConnexionResponse):
            return StarletteFramework.connexion_to_framework_response(result)
        return self._respond.build_framework_response(result)

    @staticmethod
    async def _body(
        valid: Callable[[Any], bool], scope: Scope, receive: Receive
    ) -> tuple[list[Message], Any | None, bool]:
        """The messages read, the body when it is JSON text read as Connexion reads it (else None), and
        whether its schema accepts it."""
        messages: list[Message] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        content_type = next((v for k, v in scope["headers"] if k == b"content-type"), None)
        if content_type != _JSON or messages[-1]["type"] != "http.request":
            return messages, None, False
        try:
            body = _loads(b"".join(m.get("body", b"") for m in messages).decode("utf-8"))
        except (UnicodeDecodeError, UnsafeJson):
            return messages, None, False
        return messages, body, body is not None and valid(body)

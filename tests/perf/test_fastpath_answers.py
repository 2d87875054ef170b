"""The fast path's answers are what Connexion's response decorator sends, for every kind of handler result."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from connexion.context import _operation
from connexion.decorators.response import AsyncResponseDecorator
from connexion.frameworks.starlette import Starlette as StarletteFramework
from connexion.jsonifier import Jsonifier
from connexion.lifecycle import ConnexionResponse
from connexion.resolver import RelativeResolver
from starlette.types import Message

from mockserver.http.fastpath import FastPath, _plain_json
from mockserver.specs import load_spec


async def _unused(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("not called")


def _sent(response: Any) -> list[Message]:
    messages: list[Message] = []

    async def send(message: Message) -> None:
        messages.append(message)

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    asyncio.run(response({"type": "http", "method": "GET"}, receive, send))
    return messages


RESULTS: list[Any] = [
    ({"name": "a", "n": 1, "é": "ü"}, 200),
    ({"workloadId": "x"}, 202),
    ([1, 2], 200),
    ({"a": 1}, 200, {"X-Extra": "yes"}),
    ({"a": 1}, 204),
    (None, 204),
    {"bare": "dict"},
    ConnexionResponse(status_code=404, body='{"code": 404}', mimetype="application/json"),
]


@pytest.mark.parametrize("result", RESULTS, ids=[repr(r)[:40] for r in RESULTS])
def test_every_kind_of_result_is_answered_as_connexion_answers_it(result: Any) -> None:
    fast = FastPath(
        _unused, spec=load_spec(), verify=lambda token: {}, resolver=RelativeResolver("mockserver.handlers")
    )
    operation = fast.hot[0].operation
    token = _operation.set(operation)
    try:

        async def handler() -> Any:
            return result

        decorated = AsyncResponseDecorator(framework=StarletteFramework, jsonifier=Jsonifier())(handler)
        expected = _sent(asyncio.run(decorated()))
        plain = _plain_json(result)
        if plain is None:
            got = _sent(fast._framework_response(result))
        else:  # the direct answer: the same two messages the fast path sends
            content = fast.jsonifier.dumps(plain[0]).encode("utf-8")
            length = str(len(content)).encode()
            got = [
                {
                    "type": "http.response.start",
                    "status": plain[1],
                    "headers": [(b"content-type", b"application/json"), (b"content-length", length)],
                },
                {"type": "http.response.body", "body": content},
            ]
    finally:
        _operation.reset(token)
    assert [m.get("status") for m in got] == [m.get("status") for m in expected]
    assert [m.get("headers") for m in got] == [m.get("headers") for m in expected]
    assert b"".join(m.get("body", b"") for m in got) == b"".join(m.get("body", b"") for m in expected)


def test_only_plain_json_with_a_body_status_takes_the_direct_answer() -> None:
    assert _plain_json(({"a": 1}, 200)) == ({"a": 1}, 200)
    assert _plain_json(({"a": 1}, 204)) is None
    assert _plain_json(({"a": 1}, 200, {})) is None
    assert _plain_json(({"a": 1}, True)) is None
    assert _plain_json("text") is None

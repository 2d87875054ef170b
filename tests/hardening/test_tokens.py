"""Issue 21 item 8: one spelling per token, and a token endpoint that slows a guessing client down."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest

from mockserver.http.tokenlimit import TokenRateLimit
from tests.conftest import get_token

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def respellings(token: str) -> list[str]:
    """The same bytes written otherwise: padding, a foreign character the decoder skips, unused bits."""
    head, payload, signature = token.split(".")
    last = B64.index(signature[-1])
    # A 32-byte signature is 43 characters: the last one carries 2 unused bits.
    flipped = signature[:-1] + B64[last ^ 1]
    return [
        f"{head}.{payload}.{signature}=",
        f"{head}.{payload}.{signature[:10]}!{signature[10:]}",
        f"{head}.{payload}.{flipped}",
        f"{head}=.{payload}.{signature}",
        f"{head}.{payload}\n.{signature}",
    ]


def test_a_token_is_accepted_in_its_one_spelling_only(client: Any) -> None:
    token = get_token(client)
    signature = token.split(".")[2]
    assert base64.urlsafe_b64decode(signature + "=") == base64.urlsafe_b64decode(
        respellings(token)[2].split(".")[2] + "="
    ), "the flipped bits are unused: the same signature bytes"
    for other in respellings(token):
        answer = client.get("/api/v1/workloads", headers={"Authorization": f"Bearer {other}".encode()})
        assert answer.status_code == 401, other
        assert "malformed" in answer.json()["message"]
    assert client.get("/api/v1/workloads", headers={"Authorization": f"Bearer {token}"}).status_code == 200


class Grants:
    """A token endpoint stand-in answering 200 for the password 'right', else 400."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls += 1
        status = 200 if scope["password"] == "right" else 400
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


def _post(limit: TokenRateLimit, password: str, client: str = "10.0.0.1") -> tuple[int, dict[bytes, bytes]]:
    answers: list[Any] = []

    async def send(message: Any) -> None:
        answers.append(message)

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/token",
        "client": (client, 1),
        "password": password,
    }
    asyncio.run(limit(scope, receive, send))
    return answers[0]["status"], dict(answers[0]["headers"])


def test_refused_grants_beyond_the_burst_wait_then_get_a_503_with_retry_after() -> None:
    now = [0.0]
    grants = Grants()
    limit = TokenRateLimit(grants, rate=1000.0, burst=5, max_wait=0.01, clock=lambda: now[0])
    statuses = [_post(limit, "guess")[0] for _ in range(30)]
    # The burst free, then about ten that waited 1 ms more each, then refusals that never reached the endpoint.
    passed = statuses.index(503)
    assert 10 <= passed <= 16 and statuses == [400] * passed + [503] * (30 - passed)
    assert grants.calls == passed
    status, headers = _post(limit, "guess")
    assert status == 503 and headers[b"retry-after"] == b"1"
    assert _post(limit, "guess", client="10.0.0.2")[0] == 400, "another client is not slowed"
    now[0] += 1.0  # a second later the client may try again
    assert _post(limit, "guess")[0] == 400


def test_a_client_that_signs_in_as_it_should_is_never_slowed() -> None:
    grants = Grants()
    limit = TokenRateLimit(grants, rate=1000.0, burst=5, max_wait=0.0, clock=lambda: 0.0)
    assert [_post(limit, "right")[0] for _ in range(50)] == [200] * 50


@pytest.mark.parametrize("path", ["/api/v1/workloads", "/api/v1/token/other"])
def test_other_paths_are_not_limited(path: str) -> None:
    grants = Grants()
    limit = TokenRateLimit(grants, rate=1.0, burst=0, max_wait=0.0, clock=lambda: 0.0)
    scope_path = path

    async def run() -> list[int]:
        statuses = []
        for _ in range(5):
            sent: list[Any] = []

            async def send(message: Any, sent: list[Any] = sent) -> None:
                sent.append(message)

            scope = {
                "type": "http",
                "method": "POST",
                "path": scope_path,
                "client": ("x", 1),
                "password": "no",
            }
            await limit(scope, None, send)
            statuses.append(sent[0]["status"])
        return statuses

    assert asyncio.run(run()) == [400] * 5
    assert grants.calls == 5

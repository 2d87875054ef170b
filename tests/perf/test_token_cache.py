"""The fast path's bearer check: verified once per token, trusted only until the token expires."""

from __future__ import annotations

import base64
import json
from typing import Any

from mockserver.http.fastpath import MAX_CACHED_TOKENS, TokenCache


def _token(exp: float, tag: str = "") -> str:
    payload = base64.urlsafe_b64encode(json.dumps({"exp": exp, "tag": tag}).encode()).rstrip(b"=").decode()
    return f"header.{payload}.signature"


class Verifier:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.refuse: set[str] = set()

    def __call__(self, token: str) -> dict[str, Any]:
        self.calls.append(token)
        if token in self.refuse:
            raise ValueError("refused")
        return {"sub": "mock-app"}


def _headers(value: str) -> list[tuple[bytes, bytes]]:
    return [(b"accept", b"*/*"), (b"authorization", value.encode("latin-1"))]


def test_a_verified_token_is_not_verified_again_until_it_expires() -> None:
    now = [1000.0]
    verify = Verifier()
    cache = TokenCache(verify, clock=lambda: now[0])
    token = _token(exp=1060)
    assert cache.token_info(_headers(f"Bearer {token}")) == {"sub": "mock-app"}
    assert cache.token_info(_headers(f"Bearer {token}")) == {"sub": "mock-app"}
    assert verify.calls == [token]
    # Remembered by the header as sent: another spelling of the same token is verified once more.
    assert cache.token_info(_headers(f"bearer   {token}")) == {"sub": "mock-app"}
    assert verify.calls == [token, token]
    now[0] = 1060.0  # expired: asked again, and the verifier now refuses it
    verify.refuse.add(token)
    assert cache.token_info(_headers(f"Bearer {token}")) is None
    assert verify.calls == [token, token, token]


def test_anything_but_a_bearer_token_is_left_to_connexion() -> None:
    verify = Verifier()
    cache = TokenCache(verify, clock=lambda: 0.0)
    for value in ("", "Bearer", f"Basic {_token(10)}", "Token abc"):
        assert cache.token_info(_headers(value)) is None
    assert cache.token_info([]) is None
    assert verify.calls == []


def test_the_cache_is_bounded() -> None:
    verify = Verifier()
    cache = TokenCache(verify, clock=lambda: 0.0)
    for n in range(MAX_CACHED_TOKENS + 5):
        assert cache.token_info(_headers(f"Bearer {_token(100, str(n))}")) is not None
    assert len(cache._known) <= MAX_CACHED_TOKENS

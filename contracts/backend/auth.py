"""Bearer tokens for the run: a fixed one, or one from the token endpoint, fetched again before it expires."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from contracts import limits
from contracts.redaction import SECRETS
from mockserver.config import load_config

TOKEN_PATH = "/api/v1/token"
# Fetch a new token this long before the old one expires, so that no request goes out with a token
# that dies in flight (runapy uses 60 s for the same reason).
REFRESH_MARGIN = 60.0
# A token goes out in a header of every request; servers refuse headers past 8 to 16 KiB, and a JWT of a
# real control plane is one or two. A longer one is refused here, with a message, instead of failing every
# request afterwards.
MAX_TOKEN_LENGTH = 16 * 1024


class AuthError(Exception):
    """The token endpoint refused the credentials or answered something unusable."""


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str


def _fake_credentials() -> Credentials:
    """The first account of our fake's embedded configuration, read from it (its one definition); used
    only when the target is our fake."""
    account = load_config().accounts[0]
    return Credentials(account.client_id, account.client_secret)


FAKE_CREDENTIALS = _fake_credentials()


def token_expiry(token: str) -> float | None:
    """The `exp` claim of a JWT, without verifying it (we only need to know when to fetch a new one)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, (int, float)) and not isinstance(exp, bool) else None


class TokenSource:
    """Hands out a valid access token; thread-safe, since Schemathesis workers share it."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        credentials: Credentials | None = None,
        clock: Callable[[], float] = time.time,
        timeout: float = 30.0,
    ) -> None:
        if (token is None) == (credentials is None):
            raise ValueError("give either a token or credentials")
        if token is not None and len(token) > MAX_TOKEN_LENGTH:
            raise AuthError(
                f"the token is {limits.size(len(token))}, over the {limits.size(MAX_TOKEN_LENGTH)} a header can carry"
            )
        self._base_url = base_url.rstrip("/")
        self._credentials = credentials
        self._token = token
        self._expiry = token_expiry(token) if token else None
        self._clock = clock
        self._timeout = timeout
        self._lock = threading.Lock()
        SECRETS.add(token)
        if credentials is not None:
            SECRETS.add(credentials.client_secret)

    def token(self) -> str:
        with self._lock:
            if self._token is None or self._expiring():
                self._token = self._fetch()
                self._expiry = token_expiry(self._token)
            return self._token

    def _expiring(self) -> bool:
        return (
            self._credentials is not None
            and self._expiry is not None
            and self._expiry - self._clock() <= REFRESH_MARGIN
        )

    def _fetch(self) -> str:
        assert self._credentials is not None
        body = {
            "grantType": "app_token",
            "AppId": self._credentials.client_id,
            "AppSecret": self._credentials.client_secret,
        }
        try:
            url = f"{self._base_url}{TOKEN_PATH}"
            response = limits.request(None, "POST", url, json=body, timeout=self._timeout)
        except limits.OutOfTime:
            raise  # the run's budget, not the endpoint: the run reports what it did not do
        except limits.LimitExceeded as error:
            raise AuthError(f"token endpoint: {error}") from None
        except httpx.HTTPError as error:
            raise AuthError(f"token endpoint unreachable: {error}") from None
        data: Any = _json(response)
        token = data.get("accessToken") if isinstance(data, dict) else None
        if response.status_code != 200 or not isinstance(token, str) or not token:
            # The answer may quote the request, secret and all: the message is redacted, here and again
            # wherever it is printed.
            text = SECRETS.redact(response.text[:200])
            raise AuthError(f"token endpoint answered {response.status_code}: {text}")
        if len(token) > MAX_TOKEN_LENGTH:
            raise AuthError(
                f"token endpoint answered a token of {limits.size(len(token))}, over the "
                f"{limits.size(MAX_TOKEN_LENGTH)} a request header can carry"
            )
        SECRETS.add(token)
        return token


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None

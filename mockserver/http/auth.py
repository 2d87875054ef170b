"""Access tokens: HS256 JWTs this server issues to configured applications, and their verification."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import math
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from mockserver.config import Account
from mockserver.http.jsonsafe import UnsafeJson, loads

ISSUER = "runai-mockserver"
TOKEN_LIFETIME_SECONDS = 3600
FOREIGN_ISSUER_MESSAGE = "Issuer is not familiar."
# A token of ours is about 400 characters; a header this long is no token of ours and is not parsed.
MAX_TOKEN_CHARS = 4096
# Our payload is a flat object; nesting in a presented token is refused before anything recurses.
MAX_PAYLOAD_DEPTH = 4


@dataclass(frozen=True)
class Principal:
    """Who is calling: an application and the projects it may act on (None = every project)."""

    client_id: str
    email: str
    projects: frozenset[str] | None

    def may_use(self, project_id: str) -> bool:
        return self.projects is None or project_id in self.projects


class TokenRejected(Exception):
    """A bearer token that does not authenticate; the message says why (401)."""


class CredentialsRejected(Exception):
    """A token request that cannot be granted; the message says why (400: the op declares no 401)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _canonical(segment: str) -> bytes:
    """A JWT segment's bytes, if `segment` is their one spelling: base64url without padding, no stray
    characters, no unused bits set. Anything else would let one token be presented in several forms
    (the standard decoder skips foreign characters, accepts padding and ignores the unused bits)."""
    try:
        data = base64.b64decode(segment + "=" * (-len(segment) % 4), altchars=b"-_", validate=True)
    except ValueError as error:
        raise TokenRejected("Token is malformed: a part is not base64url") from error
    if _b64(data) != segment:
        raise TokenRejected("Token is malformed: a part is not in its one base64url spelling")
    return data


def _finite_number(value: object) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _payload_segment(claims: dict[str, Any]) -> str:
    """Encode claims so the text has no '-' or '_': the official client decodes it with plain base64."""
    for pad in range(64):
        segment = _b64(json.dumps({**claims, "pad": " " * pad}, separators=(",", ":")).encode())
        if "-" not in segment and "_" not in segment:
            return segment
    raise AssertionError("no padding produced a plain-base64-safe payload")  # pragma: no cover


@dataclass
class TokenService:
    accounts: tuple[Account, ...]
    secret: bytes
    lifetime: int = TOKEN_LIFETIME_SECONDS
    # Each grant's own serial (the token's `jti`): two grants within one second still get two tokens, so
    # how many distinct tokens a client holds depends on how many it asked for, never on how fast it
    # asked (a fuzzer that reuses answered values then generates the same cases on any machine).
    _serials: itertools.count[int] = field(default_factory=lambda: itertools.count(1), init=False, repr=False)

    @classmethod
    def create(cls, accounts: Iterable[Account], secret: str | None = None) -> TokenService:
        """A key of its own per process unless one is configured: never derived from the seed, which is
        no secret, so tokens do not survive a restart (nor can anyone who knows the seed forge them)."""
        key = hashlib.sha256(secret.encode("utf-8")).digest() if secret else secrets.token_bytes(32)
        return cls(tuple(accounts), key)

    def grant(self, body: dict[str, Any] | None) -> dict[str, str]:
        """Answer a token request (`TokenResponse`); credential keys match without regard to case."""
        fields: dict[str, Any] = {}
        for key, value in (body or {}).items():
            # The first non-empty spelling wins: clients send AppId, appID, clientId … sometimes several.
            if value not in (None, "") and str(key).lower() not in fields:
                fields[str(key).lower()] = value
        grant_type = fields.get("granttype")
        if grant_type == "refresh_token":
            try:
                principal = self.verify(str(fields.get("refreshtoken") or ""))
            except TokenRejected as rejected:
                raise CredentialsRejected(f"refreshToken is not usable: {rejected}") from rejected
            account = self._account(principal.client_id)
        elif grant_type in (None, "app_token", "client_credentials", "password"):
            client_id = fields.get("appid") or fields.get("clientid") or fields.get("username")
            secret = fields.get("appsecret") or fields.get("clientsecret") or fields.get("password")
            if not client_id or not secret:
                raise CredentialsRejected("Required parameter is missing")
            account = self._account(str(client_id))
            if account is None or not hmac.compare_digest(account.client_secret, str(secret)):
                raise CredentialsRejected("Invalid client credentials")
        else:
            raise CredentialsRejected(f"grantType '{grant_type}' is not supported by this server")
        if account is None:
            raise CredentialsRejected("Invalid client credentials")
        token = self.issue(account)
        return {"accessToken": token, "idToken": token, "refreshToken": token}

    def issue(self, account: Account, now: float | None = None) -> str:
        issued = int(time.time() if now is None else now)
        claims = {
            "iss": ISSUER,
            "sub": account.client_id,
            "email": account.email,
            "iat": issued,
            "exp": issued + self.lifetime,
            "jti": str(next(self._serials)),
        }
        signing_input = _b64(b'{"alg":"HS256","typ":"JWT"}') + "." + _payload_segment(claims)
        return signing_input + "." + _b64(self._sign(signing_input))

    def verify(self, token: str) -> Principal:
        if len(token) > MAX_TOKEN_CHARS:
            raise TokenRejected(f"Token is malformed: longer than {MAX_TOKEN_CHARS} characters")
        parts = token.split(".")
        if len(parts) != 3:
            raise TokenRejected("Token is malformed: expected a JWT")
        _canonical(parts[0])
        payload, signature = _canonical(parts[1]), _canonical(parts[2])
        try:
            claims = loads(payload, max_depth=MAX_PAYLOAD_DEPTH)
        except UnsafeJson as error:
            raise TokenRejected(f"Token is malformed: the payload is {error}") from error
        except (ValueError, UnicodeDecodeError) as error:
            raise TokenRejected("Token is malformed: the payload is not JSON") from error
        if not isinstance(claims, dict) or claims.get("iss") != ISSUER:
            raise TokenRejected(FOREIGN_ISSUER_MESSAGE)
        if not hmac.compare_digest(signature, self._sign(parts[0] + "." + parts[1])):
            raise TokenRejected("Token signature does not match; was it issued by another server run?")
        exp, iat = claims.get("exp"), claims.get("iat")
        if not (_finite_number(exp) and _finite_number(iat)):
            raise TokenRejected("Token is malformed: exp and iat must be finite numbers")
        if exp <= time.time():
            raise TokenRejected("Token has expired")
        account = self._account(str(claims.get("sub")))
        if account is None:
            raise TokenRejected("Token subject is not a known application")
        return Principal(account.client_id, account.email, account.projects)

    def _account(self, client_id: str) -> Account | None:
        return next((a for a in self.accounts if a.client_id == client_id), None)

    def _sign(self, signing_input: str) -> bytes:
        return hmac.new(self.secret, signing_input.encode("utf-8"), hashlib.sha256).digest()

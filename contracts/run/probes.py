"""The run's own requests besides the fuzzed and scripted ones: the probes without a valid token.

Every secured operation is probed once per run (without a token, and with a token no Run:ai control
plane issued), replaying the first request that carried credentials; the oracle judges the answers
(`unauthenticated_problems`). Schemathesis' own `ignored_auth` only probes after a 2xx, so a 404 or 403
for a missing token would slip past it. Each probe is emitted like any other answered request, so the
reports count it.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import ssl
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import schemathesis
from schemathesis import Case, Response

from contracts import limits
from contracts.oracle.checks import HARNESS, ContractCheck, unauthenticated_problems
from contracts.oracle.findings import exchange
from contracts.reports.curl import curl_line
from contracts.run.events import CaseAnswered, Emit, ignore

PROBE_TIMEOUT = 30.0


@functools.cache
def shared_tls_context() -> ssl.SSLContext:
    """One TLS context for the one-off httpx requests of a run (`verify=`): httpx builds one per client
    otherwise, loading the CA bundle each time (tens of milliseconds, which made the probes a tenth of a
    coverage run)."""
    return httpx.create_ssl_context()


def foreign_token() -> str:
    """A well-formed, unexpired JWT that no Run:ai control plane issued: it must be refused."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    claims = {"iss": "https://contracts.invalid", "sub": "contracts", "exp": 4102444800}
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


class _Probing:
    """Which operations this run has probed, and where answered probes are emitted. Schemathesis builds
    its check instances itself (one per schema, another for its engine), so the run's state lives here."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.probed: set[str] = set()
        self.emit: Emit = ignore

    def first_time(self, label: str) -> bool:
        with self.lock:
            if label in self.probed:
                return False
            self.probed.add(label)
            return True


_PROBING = _Probing()


@contextlib.contextmanager
def probes_reported_to(emit: Emit) -> Iterator[None]:
    """For one run: probe each operation once and emit every probe answered."""
    with _PROBING.lock:
        _PROBING.probed = set()
        _PROBING.emit = emit
    try:
        yield
    finally:
        with _PROBING.lock:
            _PROBING.emit = ignore
            _PROBING.probed = set()


def _is_secured(case: Case[Any]) -> bool:
    security = case.operation.definition.raw.get(
        "security", case.operation.schema.raw_schema.get("security", [])
    )
    return any(requirement for requirement in security)


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


@schemathesis.check
class UnauthenticatedRejected(ContractCheck):
    """Every secured operation answers 401 `{code, message}` without a token and with a foreign one
    (probed once per operation and run)."""

    def problems(self, response: Response, case: Case[Any]) -> list[str]:
        request = response.request
        if "authorization" not in {k.lower() for k in request.headers} or not _is_secured(case):
            return []
        # Replay only requests the operation must accept: not a method probe, not deliberately invalid data.
        negative = case.meta is not None and case.meta.generation.mode.is_negative
        if negative or str(request.method).upper() != case.operation.method.upper():
            return []
        if not _PROBING.first_time(case.operation.label):
            return []
        headers = {
            k: v if isinstance(v, str) else v.decode("latin-1")
            for k, v in request.headers.items()
            if k.lower() not in {"authorization", "content-length"}
        }
        body = request.body if isinstance(request.body, (bytes, str)) else None
        probes = {
            "no token": {},
            "a token from another issuer": {"Authorization": f"Bearer {foreign_token()}"},
        }
        found = []
        for description, extra in probes.items():
            sent = {**headers, **extra}
            method, url = str(request.method), str(request.url)
            # Read within the run's limits (contracts.limits): a probe's answer may be endless too.
            probe = limits.request(
                None,
                method,
                url,
                headers=sent,
                content=body,
                timeout=PROBE_TIMEOUT,
                verify=shared_tls_context(),
            )
            _PROBING.emit(
                CaseAnswered(
                    exchange(case.operation.label, url, probe.status_code, sent, probe.content, probe=True)
                )
            )
            content_type = probe.headers.get("content-type", "")
            wrong = unauthenticated_problems(probe.status_code, _json_or_none(probe), content_type)
            if wrong:
                base_url = case.operation.schema.config.base_url
                line = curl_line(method, url, sent, body, base_url=base_url, keep_authorization=True)
                found.append(f"{case.operation.label} with {description}: {'; '.join(wrong)}\n  {line}")
        return found


ENABLE_PROBES = {UnauthenticatedRejected.__name__: {"harness": HARNESS}}

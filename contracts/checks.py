"""Semantic checks, registered with Schemathesis so that they run on every answer next to the built-in ones.

Importing this module registers them (Schemathesis keeps one global registry of checks). The rules
themselves live in `rules`, `phases` and `ledger`; this module only maps answers onto them.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import Any

import httpx
import schemathesis
from schemathesis import Case, CheckContext, Response
from schemathesis.core.failures import Failure

from contracts.curl import curl_line
from contracts.ledger import Ledger
from contracts.phases import INITIAL, Action
from contracts.rules import accepted_body_problems, created_at_problems, error_body_problems, name_problems
from contracts.specs import (
    CREATE_OPERATION,
    DELETE_OPERATION,
    GET_OPERATION,
    RESUME_OPERATION,
    SUSPEND_OPERATION,
)

ACTIONS = {
    SUSPEND_OPERATION: Action.SUSPEND,
    RESUME_OPERATION: Action.RESUME,
    DELETE_OPERATION: Action.DELETE,
}
PROBE_TIMEOUT = 30.0


def operation_id(case: Case) -> str | None:
    return case.operation.definition.raw.get("operationId")


def header(response: Response, name: str) -> str:
    return next((values[0] for key, values in response.headers.items() if key.lower() == name.lower()), "")


def json_body(response: Response) -> Any:
    try:
        return json.loads(response.content) if response.content else None
    except ValueError:
        return response.content.decode("utf-8", "replace")


class RuleBroken(Failure):
    """A failure of one of our checks, carrying the check's name for the report."""

    code = "CT900"
    kind_title = "Contract rule broken"

    def __init__(self, *, check: str, operation: str, message: str) -> None:
        super().__init__(operation=operation, title=f"Contract rule broken: {check}", message=message)
        self.check = check

    @property
    def _unique_key(self) -> str:
        # One finding per check and operation; Schemathesis folds repeats of it within a scenario.
        return self.check


def _fail(check: str, case: Case, problems: list[str]) -> None:
    if problems:
        raise RuleBroken(check=check, operation=case.operation.label, message="\n".join(problems))


def _is_success(response: Response) -> bool:
    return 200 <= response.status_code < 300


@schemathesis.check
def error_body_shape(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every 4xx/5xx, declared or not, is application/json `{code, message}` with code == status."""
    if response.status_code < 400:
        return None
    problems = error_body_problems(
        response.status_code, json_body(response), header(response, "content-type")
    )
    _fail("error_body_shape", case, problems)
    return None


@schemathesis.check
def training_answer_rules(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Create and get answers: name rules, createdAt, and (create) the initial phases and the echoed spec."""
    op = operation_id(case)
    if op not in (CREATE_OPERATION, GET_OPERATION) or not _is_success(response):
        return None
    training = json_body(response)
    if not isinstance(training, dict):
        _fail("training_answer_rules", case, [f"{response.status_code} body is not a training object"])
        return None
    problems = created_at_problems(training.get("createdAt"), datetime.now(timezone.utc))
    if op == CREATE_OPERATION:
        sent = case.body if isinstance(case.body, dict) else {}
        problems += name_problems(sent.get("name"), sent.get("useGivenNameAsPrefix", False), training)
    else:
        problems += name_problems(None, None, training)
    if op == CREATE_OPERATION:
        if training.get("desiredPhase") != "Running":
            problems.append(
                f"create answered desiredPhase {training.get('desiredPhase')!r}, expected 'Running'"
            )
        phase = training.get("actualPhase")
        if phase is not None and phase not in INITIAL:
            problems.append(f"create answered actualPhase {phase!r}, expected one of {sorted(INITIAL)}")
    _fail("training_answer_rules", case, problems)
    return None


@schemathesis.check
def action_answer_shape(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Suspend/resume answer `{code: 202, message}`; a 204 delete has no body, a 202 delete the same body."""
    if operation_id(case) not in ACTIONS or not _is_success(response):
        return None
    if response.status_code == 204:
        problems = [f"204 answer has a body: {response.content[:80]!r}"] if response.content.strip() else []
    else:
        problems = accepted_body_problems(response.status_code, json_body(response))
    _fail("action_answer_shape", case, problems)
    return None


@schemathesis.check
class TrainingLifecycle:
    """Follows every training the run creates: legal actualPhase transitions, desiredPhase after each
    action, the submitted spec on every read, and no resurrection after a 404 that followed a delete."""

    def __init__(self) -> None:
        self.ledger = Ledger()

    def after_response(self, ctx: CheckContext, response: Response, case: Case) -> bool | None:
        op = operation_id(case)
        workload_id = str((case.path_parameters or {}).get("workloadId", ""))
        if op == CREATE_OPERATION and _is_success(response):
            training = json_body(response)
            if isinstance(training, dict):
                self.ledger.created(training, case.body.get("spec") if isinstance(case.body, dict) else None)
        elif op in ACTIONS and _is_success(response):
            self.ledger.acted(workload_id, ACTIONS[op])
        elif op == GET_OPERATION and response.status_code == 200:
            training = json_body(response)
            _fail("TrainingLifecycle", case, self.ledger.read(training) if isinstance(training, dict) else [])
        elif op == GET_OPERATION and response.status_code == 404:
            _fail("TrainingLifecycle", case, self.ledger.not_found(workload_id))
        return None


def _is_secured(case: Case) -> bool:
    security = case.operation.definition.raw.get(
        "security", case.operation.schema.raw_schema.get("security", [])
    )
    return any(requirement for requirement in security)


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _foreign_token() -> str:
    """A well-formed, unexpired JWT that no Run:ai control plane issued: it must be refused."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    claims = {"iss": "https://contracts.invalid", "sub": "contracts", "exp": 4102444800}
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


@schemathesis.check
class UnauthenticatedRejected:
    """Every secured operation answers 401 `{code, message}` without a token and with a foreign one.

    Probes each operation once, replaying the first request that carried credentials; Schemathesis'
    own `ignored_auth` only probes after a 2xx, so a 404 or 403 for a missing token would slip past it.
    """

    def __init__(self) -> None:
        self.probed: set[str] = set()

    def after_response(self, ctx: CheckContext, response: Response, case: Case) -> bool | None:
        request = response.request
        if "authorization" not in {k.lower() for k in request.headers} or not _is_secured(case):
            return None
        # Replay only requests the operation must accept: not a method probe, not deliberately invalid data.
        if str(request.method).upper() != case.operation.method.upper() or (
            case.meta is not None and case.meta.generation.mode.is_negative
        ):
            return None
        if case.operation.label in self.probed:
            return None
        self.probed.add(case.operation.label)
        headers = {
            k: v for k, v in request.headers.items() if k.lower() not in {"authorization", "content-length"}
        }
        problems = []
        for description, extra in (
            ("no token", {}),
            ("a token from another issuer", {"Authorization": f"Bearer {_foreign_token()}"}),
        ):
            sent = {**headers, **extra}
            probe = httpx.request(
                str(request.method),
                str(request.url),
                headers=sent,
                content=request.body,
                timeout=PROBE_TIMEOUT,
            )
            body = _json_or_none(probe)
            found = [] if probe.status_code == 401 else [f"answered {probe.status_code}, expected 401"]
            if probe.status_code >= 400:
                found += error_body_problems(probe.status_code, body, probe.headers.get("content-type", ""))
            if found:
                base_url = case.operation.schema.config.base_url
                line = curl_line(
                    str(request.method),
                    str(request.url),
                    sent,
                    request.body,
                    base_url=base_url,
                    keep_authorization=True,
                )
                problems.append(f"{case.operation.label} with {description}: {'; '.join(found)}\n  {line}")
        _fail("UnauthenticatedRejected", case, problems)
        return None

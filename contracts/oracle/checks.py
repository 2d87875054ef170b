"""Semantic checks, registered with Schemathesis so that they judge every answer next to the built-in ones.

Schemathesis keeps one process-wide registry and runs every registered check by default, so importing
this module would otherwise change unrelated Schemathesis runs in the same process (another test suite,
a user's own schema). Each check is therefore a class that stays inert unless the run's configuration
switches it on (`[checks.<Name>] harness = "contracts"`, which `ENABLE` builds). The rules themselves live
in `rules`, `phases` and `ledger`; this module only maps answers onto them. It sends nothing: the probes
without a token are sent by the run (`contracts.run.probes`) and judged by `unauthenticated_problems`.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import schemathesis
from schemathesis import Case, CheckContext, Response
from schemathesis.core.failures import Failure

from contracts.oracle.ledger import Ledger
from contracts.oracle.phases import INITIAL, Action
from contracts.oracle.rules import (
    accepted_body_problems,
    created_at_problems,
    documented_part,
    documented_schema,
    error_body_problems,
    name_problems,
)
from contracts.specs import (
    CREATE_OPERATION,
    DELETE_OPERATION,
    GET_OPERATION,
    RESUME_OPERATION,
    SUSPEND_OPERATION,
)

HARNESS = "contracts"
ACTIONS = {
    SUSPEND_OPERATION: Action.SUSPEND,
    RESUME_OPERATION: Action.RESUME,
    DELETE_OPERATION: Action.DELETE,
}


def operation_id(case: Case[Any]) -> str | None:
    value = case.operation.definition.raw.get("operationId")
    return value if isinstance(value, str) else None


def header(response: Response, name: str) -> str:
    return next((values[0] for key, values in response.headers.items() if key.lower() == name.lower()), "")


def json_body(response: Response) -> Any:
    try:
        return json.loads(response.content) if response.content else None
    except ValueError:
        return response.content.decode("utf-8", "replace")


def backend_now(response: Response) -> datetime:
    """The backend's own time: its `Date` header (our fake's is its virtual clock, so a `--speed` run stays
    consistent), else ours. "In the future" means ahead of the backend's clock, not the harness's."""
    try:
        sent = parsedate_to_datetime(header(response, "date"))
    except (TypeError, ValueError, IndexError):
        return datetime.now(timezone.utc)
    return sent if sent.tzinfo is not None else sent.replace(tzinfo=timezone.utc)


def _is_success(response: Response) -> bool:
    return 200 <= response.status_code < 300


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


class ContractCheck:
    """Base of our checks: `problems` says what is wrong with one answer; inert outside a contracts run."""

    def __init__(self, harness: str | None = None) -> None:
        self.active = harness == HARNESS

    def after_response(self, ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
        if self.active:
            found = self.problems(response, case)
            if found:
                name = type(self).__name__
                raise RuleBroken(check=name, operation=case.operation.label, message="\n".join(found))
        return None

    def problems(self, response: Response, case: Case[Any]) -> list[str]:
        raise NotImplementedError


@schemathesis.check
class ErrorBodyShape(ContractCheck):
    """Every 4xx/5xx, declared or not, is application/json `{code, message}` with code == status."""

    def problems(self, response: Response, case: Case[Any]) -> list[str]:
        if response.status_code < 400:
            return []
        return error_body_problems(
            response.status_code, json_body(response), header(response, "content-type")
        )


@schemathesis.check
class TrainingAnswerRules(ContractCheck):
    """Create and get answers: name rules, createdAt, and (create) the initial phases."""

    def problems(self, response: Response, case: Case[Any]) -> list[str]:
        op = operation_id(case)
        if op not in (CREATE_OPERATION, GET_OPERATION) or not _is_success(response):
            return []
        training = json_body(response)
        if not isinstance(training, dict):
            return [f"{response.status_code} body is not a training object"]
        found = created_at_problems(training.get("createdAt"), backend_now(response))
        if op == GET_OPERATION:
            return found + name_problems(None, None, training)
        sent = case.body if isinstance(case.body, dict) else {}
        found += name_problems(sent.get("name"), sent.get("useGivenNameAsPrefix") is True, training)
        if training.get("desiredPhase") != "Running":
            found.append(f"create answered desiredPhase {training.get('desiredPhase')!r}, expected 'Running'")
        phase = training.get("actualPhase")
        if phase is not None and phase not in INITIAL:
            found.append(f"create answered actualPhase {phase!r}, expected one of {sorted(INITIAL)}")
        return found


@schemathesis.check
class ActionAnswerShape(ContractCheck):
    """Suspend/resume answer `{code: 202, message}`; a 204 delete has no body, a 202 delete the same body."""

    def problems(self, response: Response, case: Case[Any]) -> list[str]:
        if operation_id(case) not in ACTIONS or not _is_success(response):
            return []
        if response.status_code == 204:
            return [f"204 answer has a body: {response.content[:80]!r}"] if response.content.strip() else []
        return accepted_body_problems(response.status_code, json_body(response))


@schemathesis.check
class TrainingLifecycle(ContractCheck):
    """Follows every training the run creates: legal actualPhase transitions, desiredPhase after each
    action, the submitted spec in the create answer and on every read, no resurrection after a 404."""

    def __init__(self, harness: str | None = None) -> None:
        super().__init__(harness)
        self.ledger = Ledger()

    def problems(self, response: Response, case: Case[Any]) -> list[str]:
        op = operation_id(case)
        workload_id = str((case.path_parameters or {}).get("workloadId", ""))
        body = json_body(response)
        if op == CREATE_OPERATION and _is_success(response) and isinstance(body, dict):
            sent_spec = case.body.get("spec") if isinstance(case.body, dict) else None
            self.ledger.created(body, _documented_spec(case, sent_spec))
            return self.ledger.read(body)
        if op in ACTIONS and _is_success(response):
            self.ledger.acted(workload_id, ACTIONS[op])
        elif op == GET_OPERATION and response.status_code == 200 and isinstance(body, dict):
            return self.ledger.read(body)
        elif op == GET_OPERATION and response.status_code == 404:
            return self.ledger.not_found(workload_id)
        return []


def _documented_spec(case: Case[Any], spec: Any) -> Any:
    """The part of a sent spec the contract documents: only that must come back (a backend may drop keys
    its contract does not know, as Run:ai's does)."""
    document = case.operation.schema.raw_schema
    body = documented_schema(case.operation.definition.raw.get("requestBody", {}), document)
    content = body.get("content", {}) if isinstance(body, dict) else {}
    media = content.get("application/json", {}) if isinstance(content, dict) else {}
    creation = documented_schema(media.get("schema") if isinstance(media, dict) else None, document)
    spec_schema = creation.get("properties", {}).get("spec") if isinstance(creation, dict) else None
    return spec if spec_schema is None else documented_part(spec, spec_schema, document)


def unauthenticated_problems(status: int, body: Any, content_type: str) -> list[str]:
    """A secured operation asked without a valid token answers 401 with the `{code, message}` error body."""
    wrong = [] if status == 401 else [f"answered {status}, expected 401"]
    if status >= 400:
        wrong += error_body_problems(status, body, content_type)
    return wrong


ENABLE = {
    check.__name__: {"harness": HARNESS}
    for check in (
        ErrorBodyShape,
        TrainingAnswerRules,
        ActionAnswerShape,
        TrainingLifecycle,
    )
}

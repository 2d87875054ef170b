"""A method the contract does not declare on a path may be answered `501 Not Implemented`.

Schemathesis' coverage phase sends such a method and wants 405 (its `unsupported_method`), and counts any
5xx as a server error (`not_a_server_error`). But a contract cut down to what a run checks (or a fake that
serves part of Run:ai) leaves out methods the real API has on the same path: `POST /api/v1/clusters`,
`PUT /org-unit/projects/{id}`. Our fake answers those `501` with `{code, message}` naming the path as not
simulated, which RFC 9110 gives as the answer for a method a server does not support — a plain "not here",
not a crash. So both built-ins are replaced by one check that lets exactly that answer pass, with an error
body (whose shape `ErrorBodyShape` judges), and judges every other answer as the built-ins would.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis import Case, CheckContext, Response
from schemathesis.checks import not_a_server_error
from schemathesis.generation.meta import CoveragePhaseData, CoverageScenario
from schemathesis.specs.openapi.checks import unsupported_method

from contracts.oracle.checks import HARNESS, json_body

NOT_IMPLEMENTED = 501
REPLACED = ("not_a_server_error", "unsupported_method")


def is_undeclared_method(case: Case[Any]) -> bool:
    meta = case.meta
    data = meta.phase.data if meta is not None else None
    return isinstance(data, CoveragePhaseData) and data.scenario == CoverageScenario.UNSPECIFIED_HTTP_METHOD


def not_implemented(response: Response, case: Case[Any]) -> bool:
    """A 501 with a `{code, message}` body to a method the contract does not declare on the path."""
    body = json_body(response)
    return (
        response.status_code == NOT_IMPLEMENTED
        and is_undeclared_method(case)
        and isinstance(body, dict)
        and body.get("code") == NOT_IMPLEMENTED
        and isinstance(body.get("message"), str)
    )


@schemathesis.check
class UndeclaredMethodAnswer:
    """No answer is a 5xx, and a method the path does not offer answers 405 — or 501 with {code, message}
    (not implemented), since the contract may leave out methods the real API has there."""

    def __init__(self, harness: str | None = None) -> None:
        self.active = harness == HARNESS

    def after_response(self, ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
        if not self.active or not_implemented(response, case):
            return None
        not_a_server_error(ctx, response, case)
        unsupported_method(ctx, response, case)
        return None


ENABLE_UNDECLARED = {
    UndeclaredMethodAnswer.__name__: {"harness": HARNESS},
    **{name: {"enabled": False} for name in REPLACED},
}

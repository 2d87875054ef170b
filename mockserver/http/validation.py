"""Request validation the way the API answers it: formats enforced, every body problem listed, bad ids are 404.

Connexion validates with jsonschema's Draft 4 checker, which knows neither `uuid` nor (without an extra
package) `date-time`, stops at the first body error, and answers 500 for a body that is not UTF-8.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import AsyncGenerator
from itertools import islice
from typing import Any

from connexion.datastructures import MediaTypeDict
from connexion.exceptions import BadRequestProblem, ProblemException
from connexion.validators import VALIDATOR_MAP
from connexion.validators.json import JSONRequestBodyValidator
from connexion.validators.parameter import ParameterValidator
from jsonschema import Draft4Validator, ValidationError
from starlette.types import Scope

from mockserver.cluster.errors import ComplianceIssue
from mockserver.http.jsonsafe import UnsafeJson, loads
from mockserver.http.limits import MAX_COUNTED_ISSUES, MAX_LISTED_ISSUES, MESSAGE_ISSUES, left_out

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_HOSTNAME_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


def install_formats() -> None:
    """Teach the shared Draft 4 format checker the formats our contracts use (idempotent)."""
    checker = Draft4Validator.FORMAT_CHECKER

    @checker.checks("uuid")  # type: ignore[untyped-decorator]
    def _uuid(value: object) -> bool:
        return not isinstance(value, str) or bool(_UUID.match(value))

    @checker.checks("date-time", raises=ValueError)  # type: ignore[untyped-decorator]
    def _date_time(value: object) -> bool:
        if isinstance(value, str):
            if "T" not in value.upper():
                raise ValueError("a date-time needs a 'T' between date and time")
            datetime.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        return True

    @checker.checks("hostname")  # type: ignore[untyped-decorator]
    def _hostname(value: object) -> bool:
        if not isinstance(value, str):
            return True
        return 0 < len(value) <= 253 and all(
            _HOSTNAME_LABEL.match(label) for label in value.rstrip(".").split(".")
        )

    for name, (low, high) in _INT_RANGES.items():

        def _in_range(value: object, low: int = low, high: int = high) -> bool:
            return not isinstance(value, int) or isinstance(value, bool) or low <= value <= high

        checker.checks(name)(_in_range)


class InvalidBody(BadRequestProblem):  # type: ignore[misc]  # connexion ships no types
    """A body that breaks its schema; carries every problem (up to a bound), not only the first."""

    def __init__(self, issues: list[ComplianceIssue], counted_all: bool = True) -> None:
        summary = "; ".join(f"{i.field}: {i.details}" for i in issues[:MESSAGE_ISSUES])
        super().__init__(detail=f"Request body is invalid: {summary}{left_out(len(issues), counted_all)}")
        self.issues = issues[:MAX_LISTED_ISSUES]


def _field_path(error: ValidationError) -> str:
    path = ""
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(body)"


class BodyValidator(JSONRequestBodyValidator):  # type: ignore[misc]
    async def _parse(self, stream: AsyncGenerator[bytes, None], scope: Scope) -> Any:
        raw = b"".join([message async for message in stream])
        try:
            text = raw.decode(self._encoding)
        except UnicodeDecodeError as error:
            raise BadRequestProblem(detail=f"Request body is not valid {self._encoding} text") from error
        if not text:
            return None
        try:
            return loads(text)
        except UnsafeJson as error:
            raise BadRequestProblem(detail=f"Request body is {error}") from error

    def _validate(self, body: Any) -> Any:
        if not self._nullable and body is None:
            raise BadRequestProblem(detail="Request body must not be empty")
        # Bounded: a 1 MiB body can hold hundreds of thousands of bad values.
        found = list(islice(self._validator.iter_errors(body), MAX_COUNTED_ISSUES + 1))
        if found:
            errors = sorted(
                found[:MAX_COUNTED_ISSUES], key=lambda e: (list(map(str, e.absolute_path)), e.message)
            )
            issues = [ComplianceIssue(_field_path(e), _short(e.message)) for e in errors]
            raise InvalidBody(issues, counted_all=len(found) <= MAX_COUNTED_ISSUES)
        return body


def _short(message: str, limit: int = 200) -> str:
    # jsonschema quotes the offending value whole ("[1, 1, 1, …] is not of type 'object'").
    return message if len(message) <= limit else message[: limit - 1] + "…"


class NotFoundProblem(ProblemException):  # type: ignore[misc]
    def __init__(self, detail: str) -> None:
        super().__init__(status=404, title="Not Found", detail=detail)


class ParameterChecks(ParameterValidator):  # type: ignore[misc]
    def validate_path_parameter(self, param: dict[str, Any], request: Any) -> str | None:
        # A malformed id names no resource: the operations declare 404 for that, not 400.
        error = super().validate_path_parameter(param, request)
        if error:
            raise NotFoundProblem(f"Resource id not found. ({error})")
        return None


def validator_map() -> dict[str, Any]:
    return {
        "body": MediaTypeDict({**VALIDATOR_MAP["body"], "*/*json": BodyValidator}),
        "parameter": ParameterChecks,
    }

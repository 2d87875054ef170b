"""The API's error body `{code, message}` (plus `complianceIssues` on a refused create): built here only.

Every layer that answers an error — Connexion's handlers, our ASGI middleware, the uvicorn guard that
answers before the app — uses these, so the shape and its bounds are defined once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from itertools import islice
from typing import Any

from mockserver.cluster.errors import ComplianceIssue
from mockserver.http.limits import MAX_ISSUE_CHARS, MAX_LISTED_ISSUES, MAX_MESSAGE_CHARS


def error_body(status: int, message: str, issues: Iterable[ComplianceIssue] = ()) -> dict[str, Any]:
    # Bounded whatever the caller built: messages, issue lists and issues grow with what the client sent.
    body: dict[str, Any] = {"code": status, "message": _cut(message, MAX_MESSAGE_CHARS)}
    listed = list(islice(issues, MAX_LISTED_ISSUES))
    if listed:
        body["complianceIssues"] = [
            {"field": _cut(i.field, MAX_ISSUE_CHARS), "details": _cut(i.details, MAX_ISSUE_CHARS)}
            for i in listed
        ]
    return body


def error_bytes(status: int, message: str, issues: Iterable[ComplianceIssue] = ()) -> bytes:
    return json.dumps(error_body(status, message, issues)).encode()


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"

"""Each contract document checked against the OpenAPI meta-schema once per process, not once per copy.

Connexion validates a document whenever it builds a `Specification` from it: when an API is added, and
again for every copy its middlewares take while the stack is built at the first request (about seven
per API). The check is pure and the documents do not change, so a document already found valid is
not checked again; an invalid one still raises every time, with Connexion's own error. This is most of
the fake's start-up time (issue 12: process start to first 200 within 1 s).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from connexion.spec import Specification

_VALID: set[tuple[type, str]] = set()


def _fingerprint(spec: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=repr).encode()).hexdigest()


def validate_each_document_once() -> None:
    """Wrap Connexion's document check with a memory of the documents found valid (idempotent)."""
    check = Specification.__dict__["_validate_spec"]
    if getattr(check.__func__, "remembers", False):
        return
    validate = check.__func__

    def once(cls: type, spec: dict[str, Any]) -> None:
        key = (cls, _fingerprint(spec))
        if key not in _VALID:
            validate(cls, spec)  # raises InvalidSpecification: nothing is remembered then
            _VALID.add(key)

    once.remembers = True  # type: ignore[attr-defined]
    Specification._validate_spec = classmethod(once)

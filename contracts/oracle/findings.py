"""What a run produces: every exchange it observed (for coverage) and every finding (for the verdict)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from schemathesis.core.failures import Failure

from contracts.oracle.checks import RuleBroken

_WORKLOAD_IN_PATH = re.compile(r"/trainings/([0-9a-fA-F-]{36})(?:/|$|\?)")


@dataclass(frozen=True)
class Exchange:
    """One answered request, reduced to what the coverage matrix needs."""

    operation: str
    status: int
    authenticated: bool
    workload_id: str | None = None
    actual_phase: str | None = None
    # Sent by the harness for itself, not a case of the contract: the probes without a valid token, the
    # look-ups of the project's room and of why a training is held (counted, but about no training).
    probe: bool = False


@dataclass(frozen=True)
class Finding:
    check: str
    operation: str
    title: str
    message: str
    source: str
    curl: str | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.operation, self.check, self.title, self.message)


def failure_check(failure: Failure) -> str:
    if isinstance(failure, RuleBroken):
        return failure.check
    return type(failure).checks[0] if type(failure).checks else failure.code


def finding_from_failure(failure: Failure, source: str, curl: str | None) -> Finding:
    return Finding(
        check=failure_check(failure),
        operation=failure.operation or "(run)",
        title=failure.title,
        message=failure.message.strip(),
        source=source,
        curl=curl,
    )


def exchange(
    operation: str, url: str, status: int, headers: Mapping[str, Any], content: bytes, *, probe: bool = False
) -> Exchange:
    """Reduce an answer: the workload from the path or a training body, the phase from a training body."""
    match = _WORKLOAD_IN_PATH.search(url)
    workload_id = match.group(1) if match else None
    phase = None
    if 200 <= status < 300 and content:
        try:
            body = json.loads(content)
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("workloadId"), str):
            workload_id = body["workloadId"]
            phase = body.get("actualPhase") if isinstance(body.get("actualPhase"), str) else None
    authenticated = any(name.lower() == "authorization" for name in headers)
    if probe:
        return Exchange(operation, status, authenticated, probe=True)
    return Exchange(operation, status, authenticated, workload_id, phase)


def deduplicate(findings: list[Finding]) -> list[Finding]:
    """One finding per (operation, check, title, message), the first seen keeping its curl line; sorted so
    that the report does not depend on the order in which workers happened to finish."""
    unique: dict[tuple[str, str, str, str], Finding] = {}
    for finding in findings:
        unique.setdefault(finding.key, finding)
    return sorted(unique.values(), key=lambda f: f.key)

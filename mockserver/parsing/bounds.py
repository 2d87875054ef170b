"""Limits on request fields whose size drives work, so that no single request can stall the fake.

Kubernetes and Run:ai leave most of these unbounded in their schemas; real clusters are bounded by
admission webhooks and etcd's request size. These are generous for any real job and finite.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mockserver.cluster.errors import ComplianceIssue

MAX_PODS = 1000  # spec.parallelism, spec.completions
MAX_GPU_DEVICES = 1024  # spec.compute.gpuDevicesRequest
MAX_BACKOFF_LIMIT = 10_000
MAX_SECONDS = 10 * 365 * 24 * 3600  # autoDeletionTimeAfterCompletionSeconds and friends: ten years
MAX_LIST_ITEMS = 1000
MAX_STRING = 65_536

NUMERIC_BOUNDS: dict[tuple[str, ...], float] = {
    ("parallelism",): MAX_PODS,
    ("completions",): MAX_PODS,
    ("backoffLimit",): MAX_BACKOFF_LIMIT,
    ("autoDeletionTimeAfterCompletionSeconds",): MAX_SECONDS,
    ("compute", "gpuDevicesRequest"): MAX_GPU_DEVICES,
}


def bound_issues(spec: dict[str, Any]) -> list[ComplianceIssue]:
    issues = []
    for path, bound in NUMERIC_BOUNDS.items():
        value: Any = spec
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > bound:
            issues.append(ComplianceIssue("spec." + ".".join(path), f"must be at most {bound:g}"))
    for where, problem in _sizes(spec, "spec"):
        issues.append(ComplianceIssue(where, problem))
    return issues


def _sizes(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str) and len(value) > MAX_STRING:
        yield where, f"must be at most {MAX_STRING} characters"
    elif isinstance(value, list):
        if len(value) > MAX_LIST_ITEMS:
            yield where, f"must have at most {MAX_LIST_ITEMS} items"
            return
        for index, item in enumerate(value):
            if _may_break(item):
                yield from _sizes(item, f"{where}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            if _may_break(item):
                yield from _sizes(item, f"{where}.{key}")


def _may_break(value: Any) -> bool:
    """False for the values _sizes says nothing of (numbers, booleans, null, short strings): not visited."""
    return isinstance(value, (dict, list)) or (isinstance(value, str) and len(value) > MAX_STRING)

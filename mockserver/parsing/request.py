"""A create body of a container workload (training, workspace), read per API version into the cluster's
`WorkloadRequest`; the kind's parsing module says which kind.

Connexion has already checked the body against the version's schema; what is checked here is what the
schema cannot say (ranges between fields, quantities, sizes). Each problem becomes a compliance issue
naming the API field, so that one 400 lists them all together with the cluster's own rules.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from mockserver.cluster.errors import ComplianceIssue
from mockserver.cluster.kinds import WorkloadKind
from mockserver.cluster.request import WorkloadRequest
from mockserver.cluster.resources import PodRequest
from mockserver.parsing.bounds import bound_issues
from mockserver.parsing.compute import compute_issues, pod_request_from_compute
from mockserver.parsing.prune import prune_spec
from mockserver.versions import ApiVersion

# The documented defaults of the API's workload specs.
DEFAULT_BACKOFF_LIMIT = 6
DEFAULT_AUTO_DELETION_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True)
class ParsedRequest:
    request: WorkloadRequest
    issues: tuple[ComplianceIssue, ...]


def parse_request(
    body: dict[str, Any], version: ApiVersion, kind: WorkloadKind, create_path: str
) -> ParsedRequest:
    """`create_path`: the kind's create operation in the version's document (its spec is pruned by it)."""
    spec: dict[str, Any] = body.get("spec") or {}
    compute: dict[str, Any] = spec.get("compute") or {}
    issues = _spec_issues(spec) + compute_issues(compute) + bound_issues(spec)
    preemptibility = spec.get("preemptibility") if version.has_preemptibility else None
    # Fields a version may lack are read from the pruned document: what the version does not define
    # does not count (2.18 has no restartPolicy, no terminationGracePeriodSeconds).
    kept = prune_spec(body.get("spec"), version.spec, create_path)
    fields: dict[str, Any] = kept if isinstance(kept, dict) else {}
    request = WorkloadRequest(
        name=_shared(body["name"]),
        project_id=_shared(body["projectId"]),
        cluster_id=_shared(body["clusterId"]),
        name_is_prefix=bool(body.get("useGivenNameAsPrefix")),
        image=_shared(spec.get("image")),
        pod=_pod_request(compute),
        pods=min(max(1, _int(spec.get("parallelism"), 1)), 1000),
        priority_class=version.priority_for(kind.category, spec.get("priorityClass")),
        preemptible=None if preemptibility is None else preemptibility == "preemptible",
        node_pools=tuple(str(p) for p in pools) if (pools := spec.get("nodePools")) else (),
        node_type=spec.get("nodeType"),
        backoff_limit=max(0, _int(spec.get("backoffLimit"), DEFAULT_BACKOFF_LIMIT)),
        auto_delete_after=float(
            max(0, _int(spec.get("autoDeletionTimeAfterCompletionSeconds"), DEFAULT_AUTO_DELETION_SECONDS))
        ),
        terminate_after_preemption=bool(spec.get("terminateAfterPreemption")),
        command=spec.get("command"),
        args=spec.get("args"),
        annotations=_annotations(spec.get("annotations")),
        # Only what the version defines (docs/scale.md): unknown keys are dropped before they are stored.
        spec_document=kept,
        completions=_completions(fields),
        restart_policy=_text(fields.get("restartPolicy")),
        grace_period=_grace(fields.get("terminationGracePeriodSeconds")),
        claims=_claims(fields),
        secrets=_secrets(fields),
    )
    return ParsedRequest(request, tuple(issues))


# What each compute block of plain values asks of a pod: clients create the same shapes over and over,
# and the translation is pure (its result is frozen). Floats are left out of the key (-0.0 == 0.0).
MAX_CACHED_PODS = 1024
_ATOMIC = frozenset({str, int, bool, type(None)})
_pods: dict[tuple[tuple[str, type, Any], ...], PodRequest] = {}


def _pod_request(compute: dict[str, Any]) -> PodRequest:
    if not all(type(v) in _ATOMIC for v in compute.values()):
        return pod_request_from_compute(compute)
    key = tuple([(k, type(v), v) for k, v in compute.items()])
    pod = _pods.get(key)
    if pod is None:
        if len(_pods) >= MAX_CACHED_PODS:
            _pods.clear()
        pod = _pods[key] = pod_request_from_compute(compute)
    return pod


def _int(value: Any, default: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return default
    return int(min(max(value, -1e15), 1e15))


def _shared(value: Any) -> Any:
    """One copy of a string that many workloads repeat (project, cluster, image): 100,000 creates hold one."""
    return sys.intern(value) if isinstance(value, str) else value


def _annotations(items: Any) -> dict[str, str]:
    if not isinstance(items, list):
        return {}
    return {
        a["name"]: str(a.get("value") or "")
        for a in items
        if isinstance(a, dict) and isinstance(a.get("name"), str) and not a.get("exclude")
    }


def _completions(spec: dict[str, Any]) -> int | None:
    value = spec.get("completions")
    return None if value is None else min(max(1, _int(value, 1)), 100_000)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _grace(value: Any) -> float | None:
    return None if value is None else float(max(0, _int(value, 0)))


def _claims(spec: dict[str, Any]) -> tuple[str, ...]:
    """PVC claim names the request says exist already (`existingPvc: true`); others are created."""
    storage = spec.get("storage") or {}
    pvcs = storage.get("pvc") if isinstance(storage, dict) else None
    return tuple(
        str(p["claimName"])
        for p in (pvcs if isinstance(pvcs, list) else ())
        if isinstance(p, dict) and p.get("existingPvc") and p.get("claimName")
    )


def _secrets(spec: dict[str, Any]) -> tuple[str, ...]:
    """Secrets that environment variables are read from."""
    variables = spec.get("environmentVariables")
    return tuple(
        str(v["secret"]["name"])
        for v in (variables if isinstance(variables, list) else ())
        if isinstance(v, dict)
        and not v.get("exclude")
        and isinstance(v.get("secret"), dict)
        and v["secret"].get("name")
    )


def _spec_issues(spec: dict[str, Any]) -> list[ComplianceIssue]:
    issues = []
    if not spec.get("image"):
        issues.append(ComplianceIssue("spec.image", "an image is required to create a workload"))
    for field in ("completions", "parallelism"):
        if spec.get(field) is not None and spec[field] < 1:
            issues.append(ComplianceIssue(f"spec.{field}", "must be at least 1"))
    for field in ("backoffLimit", "autoDeletionTimeAfterCompletionSeconds"):
        if spec.get(field) is not None and spec[field] < 0:
            issues.append(ComplianceIssue(f"spec.{field}", "must not be negative"))
    return issues

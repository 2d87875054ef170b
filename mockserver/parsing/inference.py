"""Inference bodies, read per API version: the create body (a container workload of the inference kind)
and the PATCH body (a change to its spec), each into the cluster's `WorkloadRequest`.

Replicas. Run:ai scales an inference between `autoscaling.minReplicas` and `maxReplicas` by a metric of
its traffic; the fake has no traffic, so an inference runs `initialReplicas` where the request gives it
(the later documents' field), else `minReplicas` — and with `minReplicas` 0 (scale to zero allowed) one
replica, as the documents say of the defaults. It never scales on its own after that; a PATCH of
`autoscaling` rolls the new count out. `maxReplicas` below `minReplicas` is refused.

PATCH. The body's `spec` is merged into the stored spec as a JSON merge patch (RFC 7386: objects merge
key by key, `null` removes a key), and the result is read again as a create spec of the same version, so
a changed image, command, compute or replica count is what the new revision runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from mockserver.cluster.errors import ComplianceIssue
from mockserver.cluster.kinds.inference import INFERENCE
from mockserver.cluster.request import WorkloadRequest
from mockserver.parsing.request import ParsedRequest, parse_request
from mockserver.versions import VERSIONS, ApiVersion

# The create operation in every version's document: its body's `spec` says which spec fields are kept.
CREATE_PATH = "/api/v1/workloads/inferences"
# The most replicas the fake runs of one inference (a bound, as for a training's parallelism).
MAX_REPLICAS = 1000


def parse_inference(body: dict[str, Any], version: ApiVersion) -> ParsedRequest:
    parsed = parse_request(body, version, INFERENCE, CREATE_PATH)
    return _with_replicas(parsed)


@dataclass(frozen=True)
class InferencePatch:
    """A PATCH of an inference's spec, applied by the cluster to the request in force: a record, not a
    closure, so that the state file can journal it (the version by name: the row is this process's)."""

    body: Mapping[str, Any]
    version: str

    def __call__(self, current: WorkloadRequest) -> tuple[WorkloadRequest, tuple[ComplianceIssue, ...]]:
        return revise_inference(current, dict(self.body), VERSIONS[self.version])


def revise_inference(
    current: WorkloadRequest, body: dict[str, Any], version: ApiVersion
) -> tuple[WorkloadRequest, tuple[ComplianceIssue, ...]]:
    """The request after a PATCH: the stored spec with the body's `spec` merged in, read again."""
    spec = merge_patch(dict(current.spec_document or {}), body.get("spec") or {})
    again = {
        "name": current.name,
        "projectId": current.project_id,
        "clusterId": current.cluster_id,
        "spec": spec,
    }
    parsed = _with_replicas(parse_request(again, version, INFERENCE, CREATE_PATH))
    return replace(parsed.request, name=current.name, name_is_prefix=False), parsed.issues


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: a new value (nothing shared with `target` is changed: stored specs are shared objects)."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def _with_replicas(parsed: ParsedRequest) -> ParsedRequest:
    spec = parsed.request.spec_document if isinstance(parsed.request.spec_document, dict) else {}
    autoscaling = spec.get("autoscaling")
    scaling: dict[str, Any] = autoscaling if isinstance(autoscaling, dict) else {}
    low, high, initial = (_count(scaling.get(k)) for k in ("minReplicas", "maxReplicas", "initialReplicas"))
    issues = list(parsed.issues)
    if low is not None and high is not None and high < low:
        issues.append(ComplianceIssue("spec.autoscaling.maxReplicas", "must be no less than minReplicas"))
    replicas = initial if initial is not None else low
    replicas = max(1, replicas if replicas is not None else 1)
    if high is not None:
        replicas = min(replicas, high)
    request = replace(
        parsed.request,
        pods=min(max(1, replicas), MAX_REPLICAS),
        min_replicas=None if low is None else min(max(0, low), MAX_REPLICAS),
        max_replicas=None if high is None else min(max(0, high), MAX_REPLICAS),
    )
    return ParsedRequest(request, tuple(issues))


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value

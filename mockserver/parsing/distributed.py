"""A create-distributed body, read per API version: a master and `numWorkers` workers of the distributed
kind, gang-scheduled.

The master's request: `masterSpec`'s compute when the body gives a master spec; the workers' spec when
`masterSpecSameAsWorker` is true, and also when the body says neither — the official document calls
`masterSpec` something to give "only if masterSpecSameAsWorker is false", and Run:ai's submit forms and
CLI start the master from the workers' settings unless a separate master setup is asked for. Giving both
is refused (the document: "in this case, masterSpec should not be specified").

`minReplicas`/`maxReplicas` (elastic PyTorch, "applicable only for PyTorch") bound the workers: the gang
starts once the master and `minReplicas` workers fit; with no `minReplicas` every worker is needed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mockserver.cluster.errors import ComplianceIssue
from mockserver.cluster.kinds import DISTRIBUTED
from mockserver.parsing.compute import compute_issues, pod_request_from_compute
from mockserver.parsing.prune import prune_spec
from mockserver.parsing.request import ParsedRequest, parse_request
from mockserver.versions import ApiVersion

CREATE_PATH = "/api/v1/workloads/distributed"
# The most workers one request may ask for (the fake's bound; Run:ai's is the cluster's size).
MAX_WORKERS = 1000
# Run:ai's default framework when the body names none.
DEFAULT_FRAMEWORK = "PyTorch"


def parse_distributed(body: dict[str, Any], version: ApiVersion) -> ParsedRequest:
    parsed = parse_request(body, version, DISTRIBUTED, CREATE_PATH)
    spec: dict[str, Any] = body.get("spec") or {}
    master: Any = body.get("masterSpec")
    same = body.get("masterSpecSameAsWorker")
    issues = list(parsed.issues)
    workers = _count(spec.get("numWorkers")) or 1
    minimum, maximum = _count(spec.get("minReplicas")), _count(spec.get("maxReplicas"))
    framework = spec.get("distributedFramework") or DEFAULT_FRAMEWORK
    if (_count(spec.get("numWorkers")) or 1) < 1:
        issues.append(ComplianceIssue("spec.numWorkers", "must be at least 1"))
    if workers > MAX_WORKERS:
        issues.append(ComplianceIssue("spec.numWorkers", f"must be at most {MAX_WORKERS}"))
    if (minimum is not None or maximum is not None) and framework != "PyTorch":
        issues.append(
            ComplianceIssue(
                "spec.minReplicas", f"minReplicas and maxReplicas apply to PyTorch only, not {framework}"
            )
        )
    if minimum is not None and minimum < 1:
        issues.append(ComplianceIssue("spec.minReplicas", "must be at least 1"))
    if minimum is not None and maximum is not None and maximum < minimum:
        issues.append(ComplianceIssue("spec.maxReplicas", "cannot be smaller than minReplicas"))
    if maximum is not None and workers > maximum:
        issues.append(ComplianceIssue("spec.numWorkers", f"{workers} workers exceed maxReplicas {maximum}"))
    if minimum is not None and workers < minimum:
        issues.append(
            ComplianceIssue("spec.numWorkers", f"{workers} workers are fewer than minReplicas {minimum}")
        )
    lead = None
    master_document = None
    if isinstance(master, dict):
        if same:
            issues.append(
                ComplianceIssue("masterSpec", "must not be given when masterSpecSameAsWorker is true")
            )
        compute: dict[str, Any] = master.get("compute") or {}
        issues += [
            replace(i, field="masterSpec." + i.field.removeprefix("spec.")) for i in compute_issues(compute)
        ]
        lead = pod_request_from_compute(compute)
        master_document = prune_spec(master, version.spec, CREATE_PATH, "masterSpec")
    request = replace(
        parsed.request,
        pods=min(max(1, workers), MAX_WORKERS),
        min_replicas=None if minimum is None else max(1, min(minimum, MAX_WORKERS)),
        max_replicas=None if maximum is None else max(1, min(maximum, MAX_WORKERS)),
        lead_pod=lead,
        master_document=master_document,
    )
    return ParsedRequest(request, tuple(issues))


def _count(value: Any) -> int | None:
    """An integer field as sent (None when absent or not a number), within bounds a fake can hold."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return None
    return int(min(max(value, -1e9), 1e9))

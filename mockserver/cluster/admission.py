"""The cluster's rules for a submission: what exists here, who may use it, and which names are free.

Rules about the request itself (shape, ranges, quantities) are checked where it is read, at the edge;
their issues arrive here so that one answer lists every problem.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from mockserver.cluster.errors import ComplianceIssue, Forbidden, SubmissionRejected
from mockserver.cluster.names import name_problem
from mockserver.cluster.priorities import PRIORITY_CLASSES
from mockserver.cluster.request import WorkloadRequest
from mockserver.cluster.topology import Topology


class Caller(Protocol):
    """Who is calling: an application, and the projects it may act on."""

    @property
    def client_id(self) -> str: ...

    @property
    def email(self) -> str: ...

    def may_use(self, project_id: str) -> bool: ...


def admit(
    request: WorkloadRequest,
    topology: Topology,
    caller: Caller,
    name_taken: Callable[[str, str], bool],
    request_issues: Sequence[ComplianceIssue] = (),
) -> None:
    """Raise SubmissionRejected listing every problem, or Forbidden when the caller may not use the project."""
    issues: list[ComplianceIssue] = []
    if request.cluster_id != topology.cluster_id:
        issues.append(
            ComplianceIssue("clusterId", f"cluster '{request.cluster_id}' is not known to this tenant")
        )
    project_id = request.project_id
    if topology.project(project_id) is None:
        issues.append(ComplianceIssue("projectId", f"project '{project_id}' does not exist"))
    elif not caller.may_use(project_id):
        raise Forbidden()
    problem = name_problem(request.name, request.name_is_prefix)
    if problem:
        issues.append(ComplianceIssue("name", problem))
    elif not request.name_is_prefix and name_taken(project_id, request.name):
        issues.append(
            ComplianceIssue("name", f"workload with name '{request.name}' already exists in this project")
        )
    issues += request_issues
    if request.priority_class not in PRIORITY_CLASSES:
        issues.append(
            ComplianceIssue(
                "spec.priorityClass", f"priority '{request.priority_class}' is not available in this cluster"
            )
        )
    unknown = [p for p in request.node_pools if p not in topology.node_pools]
    if unknown:
        issues.append(ComplianceIssue("spec.nodePools", f"unknown node pool(s): {', '.join(unknown)}"))
    if issues:
        raise SubmissionRejected(issues)

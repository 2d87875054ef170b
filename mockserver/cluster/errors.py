"""Domain errors raised by the fake cluster; the HTTP layer maps each to a documented status."""

from __future__ import annotations

from dataclasses import dataclass, field


class ClusterError(Exception):
    """Base of every error the simulator reports to a caller."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ClusterError):
    status = 404


class Forbidden(ClusterError):
    status = 403


@dataclass(frozen=True)
class ComplianceIssue:
    field: str
    details: str


@dataclass
class SubmissionRejected(ClusterError):
    """A create request that the schema accepted but the cluster's rules do not."""

    issues: list[ComplianceIssue] = field(default_factory=list)
    summary: str = "The workload request does not comply with the policy set by the administrator"

    def __post_init__(self) -> None:
        details = "; ".join(f"{i.field}: {i.details}" for i in self.issues)
        ClusterError.__init__(self, f"{self.summary}: {details}" if details else self.summary)


class ConfigError(Exception):
    """A configuration file that cannot be used: says which file, where in it, and what is wrong."""

    def __init__(self, source: str, path: str, problem: str) -> None:
        super().__init__(f"{source}: {path}: {problem}")
        self.source = source
        self.path = path
        self.problem = problem

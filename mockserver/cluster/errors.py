"""Domain errors raised by the fake cluster. They carry no HTTP status: the edge maps each kind once."""

from __future__ import annotations

from dataclasses import dataclass, field


class ClusterError(Exception):
    """A request the cluster cannot carry out; the message says why."""

    default_message = "The request cannot be carried out."

    def __init__(self, message: str | None = None) -> None:
        message = message or self.default_message
        super().__init__(message)
        self.message = message


class NotFound(ClusterError):
    """No such training, load or other object."""

    default_message = "Resource id not found."


class Forbidden(ClusterError):
    """The caller may not act on this project."""

    default_message = "You do not have sufficient permissions."


class Conflict(ClusterError):
    """A control request that makes no sense in the current state (a training's phase, the clock's mode)."""


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

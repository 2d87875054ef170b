"""How a training moves through its phases, as data (KWOK-style stages) rather than scattered ifs."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from mockserver.cluster.errors import ConfigError

# Phases a timer leaves on its own after `Timing.<stage>` virtual seconds, and where they lead.
# Deleting leads nowhere: the training is gone.
TIMED_STAGES: dict[str, tuple[str, str | None]] = {
    "Creating": ("creating", "Pending"),
    "Initializing": ("initializing", "Running"),
    "Stopping": ("stopping", "Stopped"),
    "Resuming": ("resuming", "Pending"),
    "Terminating": ("terminating", "Pending"),
    "Deleting": ("deleting", None),
}
# Phases in which a training holds (or waits for) cluster resources: leaving them releases the job.
ACTIVE = frozenset({"Creating", "Pending", "Initializing", "Running", "Resuming", "Terminating"})
TERMINAL = frozenset({"Completed", "Failed"})
OUTCOMES = ("Completed", "Failed")

# Priority classes: the 2.18 names, then the later dictionary. At or above 100 a workload is
# non-preemptible unless its spec.preemptibility says otherwise (later API versions).
PRIORITY_CLASSES = {
    "train": 50,
    "interactive-preemptible": 75,
    "build": 100,
    "very-low": 25,
    "low": 40,
    "medium-low": 65,
    "medium": 80,
    "medium-high": 90,
    "high": 125,
    "very-high": 150,
}
DEFAULT_PRIORITY_CLASS = "train"
NON_PREEMPTIBLE_FROM = 100

DEFAULT_BACKOFF_LIMIT = 6
DEFAULT_AUTO_DELETION_SECONDS = 30 * 24 * 3600

# Per-training behaviour, set through spec.annotations.
DURATION_ANNOTATION = "mock.runai/duration"
OUTCOME_ANNOTATION = "mock.runai/outcome"


@dataclass(frozen=True)
class Timing:
    """Virtual seconds each stage takes, and how a training ends unless told otherwise."""

    creating: float = 1
    initializing: float = 2
    stopping: float = 1
    resuming: float = 1
    terminating: float = 1
    deleting: float = 0
    schedulePeriod: float = 1
    runDuration: float = 3600
    outcome: str = "Completed"

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, source: str) -> Timing:
        data = data or {}
        known = {f.name for f in fields(cls)}
        for key, value in data.items():
            if key not in known:
                raise ConfigError(
                    source, f"timing.{key}", f"unknown setting; expected one of {sorted(known)}"
                )
            if key == "outcome":
                if value not in OUTCOMES:
                    raise ConfigError(source, "timing.outcome", f"must be one of {list(OUTCOMES)}")
            elif not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ConfigError(source, f"timing.{key}", "must be a non-negative number of seconds")
        return cls(**data)

    def stage_seconds(self, phase: str) -> float:
        return float(getattr(self, TIMED_STAGES[phase][0]))

"""How long each stage of a training takes, in virtual seconds, and the named profiles."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from mockserver.cluster.errors import ConfigError

OUTCOMES = ("Completed", "Failed")


@dataclass(frozen=True)
class Timing:
    """Virtual seconds each stage takes, and how a training ends when nothing else decides it."""

    creating: float = 1
    initializing: float = 2
    stopping: float = 1
    resuming: float = 1
    terminating: float = 1
    # Pod termination on delete (Kubernetes' grace period bounds it; see Workload request grace_period).
    deleting: float = 1
    schedulePeriod: float = 1
    runDuration: float = 3600
    outcome: str = "Completed"
    # How long a deleted training stays listable under the workloads API with `deleted=true`.
    deletedRetention: float = 24 * 3600
    # Kubernetes restarts a failed Job pod after 10 s, 20 s, 40 s … capped at 6 minutes.
    restartBackoff: float = 10
    restartBackoffCap: float = 360
    # A pod that cannot start (ErrImagePull, CreateContainerConfigError) fails its workload this long
    # after its first error (our choice: Kubernetes retries for ever; Run:ai gives up on such workloads).
    startFailure: float = 60
    # The keys a config file set itself: a profile fills in only the others.
    explicit: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, source: str) -> Timing:
        data = data or {}
        known = {f.name for f in fields(cls)} - {"explicit"}
        for key, value in data.items():
            if key not in known:
                raise ConfigError(
                    source, f"timing.{key}", f"unknown setting; expected one of {sorted(known)}"
                )
            if key == "outcome":
                if value not in OUTCOMES:
                    raise ConfigError(source, "timing.outcome", f"must be one of {list(OUTCOMES)}")
            elif not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1e12:
                raise ConfigError(source, f"timing.{key}", "must be a non-negative number of seconds")
        return cls(**data, explicit=frozenset(data))

    def with_profile(self, name: str) -> Timing:
        """This timing over a named profile: keys the config set win, the profile fills the rest."""
        profile = PROFILES[name]
        return replace(profile, **{key: getattr(self, key) for key in self.explicit}, explicit=self.explicit)

    def restart_delay(self, restarts: int) -> float:
        """The back-off before the `restarts`-th replacement pod is created (1-based)."""
        return float(min(self.restartBackoff * 2 ** max(0, restarts - 1), self.restartBackoffCap))


PROFILES = {
    # Quick, for development and tests: a training reaches Running about four seconds after creation.
    "default": Timing(),
    # What a real cluster feels like: an image pull, a scheduler period of two seconds, a visible
    # Deleting phase.
    "realistic": Timing(
        creating=2,
        initializing=8,
        stopping=3,
        resuming=2,
        terminating=3,
        deleting=3,
        schedulePeriod=2,
    ),
}

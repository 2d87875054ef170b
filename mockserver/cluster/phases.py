"""The phases a training shows (`actualPhase`) and the ones a client asks for (`desiredPhase`)."""

from __future__ import annotations

from enum import Enum


class Phase(str, Enum):
    """`actualPhase`: where the training is. The values are the API's words."""

    CREATING = "Creating"
    PENDING = "Pending"
    INITIALIZING = "Initializing"
    RUNNING = "Running"
    UPDATING = "Updating"  # a serving workload rolls its changed spec out (inferences' PATCH)
    DEGRADED = "Degraded"  # running, with some of its pods lost (Run:ai's workload phases)
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    RESUMING = "Resuming"
    TERMINATING = "Terminating"
    COMPLETED = "Completed"
    FAILED = "Failed"
    DELETING = "Deleting"
    # Shown, never entered: the control plane cannot tell (a disconnected cluster; see reader.py).
    UNKNOWN = "Unknown"

    def __str__(self) -> str:  # f-strings and messages show the API's word, not "Phase.RUNNING"
        return self.value


class DesiredPhase(str, Enum):
    """`desiredPhase`: what the last client action asked for."""

    RUNNING = "Running"
    STOPPED = "Stopped"
    DELETED = "Deleted"

    def __str__(self) -> str:
        return self.value


# Phases in which a training holds cluster resources or waits in the scheduler's queue for them.
ACTIVE = frozenset(
    {
        Phase.CREATING,
        Phase.PENDING,
        Phase.INITIALIZING,
        Phase.RUNNING,
        Phase.DEGRADED,
        Phase.RESUMING,
        Phase.TERMINATING,
    }
)
# Phases whose pods hold devices on a node.
HOLDING = frozenset({Phase.INITIALIZING, Phase.RUNNING, Phase.DEGRADED})
TERMINAL = frozenset({Phase.COMPLETED, Phase.FAILED})

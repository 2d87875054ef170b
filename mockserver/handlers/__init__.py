"""Operation handlers, found by operationId (Connexion's RelativeResolver looks them up here)."""

from mockserver.handlers.control import (
    control_advance_clock,
    control_events,
    control_force_outcome,
    control_get_clock,
    control_get_faults,
    control_remove_load,
    control_reset,
    control_set_faults,
    control_snapshot,
    control_submit_load,
)
from mockserver.handlers.trainings import (
    create_training1,
    delete_training,
    get_training,
    grant_token,
    resume_training,
    suspend_training,
)

__all__ = [
    "control_advance_clock",
    "control_events",
    "control_force_outcome",
    "control_get_clock",
    "control_get_faults",
    "control_remove_load",
    "control_reset",
    "control_set_faults",
    "control_snapshot",
    "control_submit_load",
    "create_training1",
    "delete_training",
    "get_training",
    "grant_token",
    "resume_training",
    "suspend_training",
]

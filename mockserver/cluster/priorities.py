"""Priority classes the cluster knows, and what they mean to the scheduler."""

from __future__ import annotations

# The 2.18 names, then the later dictionary. At or above NON_PREEMPTIBLE_FROM a workload is
# non-preemptible unless its request says otherwise (later API versions' `preemptibility`).
PRIORITY_CLASSES = {
    "train": 50,
    "interactive-preemptible": 75,
    "build": 100,
    "inference": 125,  # the 2.18 dictionary's class of inferences (not a value of its priorityClass enum)
    "very-low": 25,
    "low": 40,
    "medium-low": 65,
    "medium": 80,
    "medium-high": 90,
    "high": 125,
    "very-high": 150,
}
NON_PREEMPTIBLE_FROM = 100


def is_preemptible(priority: int, explicit: bool | None) -> bool:
    return explicit if explicit is not None else priority < NON_PREEMPTIBLE_FROM

"""Why something happened to a workload, as codes the views can name, beside the words KAI would write.

A `Reason` is the text a user reads (the scheduler's pending reason, an eviction, a crash), carrying the
codes of what it says and the parameters it was worded from. It is a `str`, so the scheduler, the event
log and the API's messages keep the words unchanged; the views read the codes to fill `phaseReason`,
event reasons and conditions, never the words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum
from types import MappingProxyType
from typing import Any


class ReasonCode(str, Enum):
    # Why a workload waits (the scheduler).
    OVER_LIMIT = "over-limit"  # its queue (project or department) would pass its limit
    NON_PREEMPTIBLE_OVER_QUOTA = "non-preemptible-over-quota"
    NO_FIT = "no-fit"  # no node of the pool has room or the right kind of resource
    BACK_OFF = "back-off"  # a failed container waits for its replacement
    GANG = "gang"  # a gang's minimum of pods cannot be placed at once
    PIPELINED = "pipelined"  # placed where its victims still terminate; bound once they are gone
    # What moved it.
    SCHEDULED = "scheduled"
    PREEMPTED = "preempted"  # by a higher priority workload of its project
    RECLAIMED = "reclaimed"  # by another project below its fair share
    CONSOLIDATED = "consolidated"  # moved to another node to make room for a pod (consolidation)
    STALE_GANG = "stale-gang"  # a gang left below its minimum of running pods, evicted whole
    CRASHED = "crashed"
    NODE_NOT_READY = "node-not-ready"  # its node went down: its pods were evicted (cluster/chaos.py)
    GPU_FAILED = "gpu-failed"  # a device it held failed (an XID error)


_NO_PARAMETERS: Mapping[str, Any] = MappingProxyType({})


class Reason(str):
    """Words with their codes (several when reasons of several node pools are joined) and parameters."""

    codes: tuple[ReasonCode, ...]
    params: Mapping[str, Any]

    def __new__(cls, text: str, *codes: ReasonCode, **params: Any) -> Reason:
        reason = super().__new__(cls, text)
        reason.codes = codes
        reason.params = MappingProxyType(params) if params else _NO_PARAMETERS
        return reason

    @staticmethod
    def codes_of(text: str | None) -> tuple[ReasonCode, ...]:
        """The codes of a reason; none for plain words (a message written elsewhere)."""
        return text.codes if isinstance(text, Reason) else ()

    @classmethod
    def joined(cls, parts: Iterable[str], separator: str = "; ") -> Reason:
        """Several reasons as one text, keeping every part's codes in order."""
        chosen = list(parts)
        if len(chosen) == 1 and isinstance(chosen[0], Reason):
            return chosen[0]
        return cls(separator.join(chosen), *(code for part in chosen for code in cls.codes_of(part)))

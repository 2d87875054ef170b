"""What a run has seen of each training it created, and what that lets it expect of the next read."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from contracts.oracle.phases import UNKNOWN, Action, desired_allowed, is_legal, reachable
from contracts.oracle.rules import spec_differences


@dataclass
class TrainingRecord:
    workload_id: str
    spec: Any
    desired: frozenset[str]
    # The last actualPhase that said something (Unknown says nothing), and the actions sent since.
    phase: str | None
    pending_actions: list[Action] = field(default_factory=list)
    deleted: bool = False
    gone: bool = False


class Ledger:
    """Per-training expectations, fed with every answer of a run in the order they arrived.

    Checks call it from Schemathesis worker threads, hence the lock.
    """

    def __init__(self) -> None:
        self._records: dict[str, TrainingRecord] = {}
        self._lock = threading.Lock()

    def created(self, training: dict[str, Any], sent_spec: Any) -> None:
        workload_id = str(training.get("workloadId"))
        phase = training.get("actualPhase")
        with self._lock:
            self._records[workload_id] = TrainingRecord(
                workload_id=workload_id,
                spec=sent_spec,
                desired=frozenset({"Running"}),
                phase=phase if isinstance(phase, str) and phase != UNKNOWN else None,
            )

    def acted(self, workload_id: str, action: Action) -> None:
        with self._lock:
            record = self._records.get(workload_id)
            if record is not None:
                record.pending_actions.append(action)
                record.deleted = record.deleted or action is Action.DELETE

    def read(self, training: dict[str, Any]) -> list[str]:
        """Judge a read of a training we created; returns the problems, and remembers what it showed."""
        with self._lock:
            record = self._records.get(str(training.get("workloadId")))
            if record is None:
                return []
            problems = self._judge(record, training)
            phase = training.get("actualPhase")
            if isinstance(phase, str) and phase != UNKNOWN:
                record.phase = phase
            if isinstance(training.get("desiredPhase"), str):
                record.desired = frozenset({training["desiredPhase"]})
            record.pending_actions.clear()
            return problems

    def not_found(self, workload_id: str) -> list[str]:
        """A 404 for a training we created: fine once deleted (or auto-deleted after finishing)."""
        with self._lock:
            record = self._records.get(workload_id)
            if record is None or record.deleted:
                if record is not None:
                    record.gone = True
                return []
            # Deleting (by the system, e.g. auto-deletion after completion) ends in a 404 as well.
            if record.phase is not None and not (
                {"Completed", "Failed", "Deleting"} & reachable(record.phase)
            ):
                return [
                    f"training {workload_id} answered 404 although it was never deleted "
                    f"and was last seen {record.phase}, from where it cannot finish"
                ]
            return []

    def _judge(self, record: TrainingRecord, training: dict[str, Any]) -> list[str]:
        problems = []
        wid = record.workload_id
        phase = training.get("actualPhase")
        actions = list(record.pending_actions)
        if record.gone:
            problems.append(f"training {wid} is readable again after it answered 404 following its deletion")
        if isinstance(phase, str) and record.phase is not None and not is_legal(record.phase, phase, actions):
            via = f" (actions in between: {', '.join(a.value for a in actions)})" if actions else ""
            problems.append(f"training {wid}: illegal actualPhase transition {record.phase} -> {phase}{via}")
        desired = training.get("desiredPhase")
        allowed = desired_allowed(record.desired, actions, phase if isinstance(phase, str) else None)
        if desired not in allowed:
            after = f" after {actions[-1].value}" if actions else ""
            problems.append(
                f"training {wid}: desiredPhase {desired!r}{after} with actualPhase {phase!r}, "
                f"expected {' or '.join(sorted(allowed))}"
            )
        problems.extend(
            f"training {wid}: GET returns a different spec: {d}"
            for d in spec_differences(record.spec, training.get("spec"))[:5]
        )
        return problems

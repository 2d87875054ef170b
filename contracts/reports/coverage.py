"""The coverage matrix: which operations answered which status codes, which phase transitions were seen."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from contracts.oracle.findings import Exchange
from contracts.specs import KINDS, Contract

CREATED = "(created)"
GONE = "(404)"
# Every kind's operations on one workload: the lifecycle reach covers all the kinds a run fuzzes.
ON_ONE_WORKLOAD = tuple(
    op
    for kind in KINDS
    for op in (kind.get, kind.suspend, kind.resume, kind.update, kind.delete)
    if op is not None
)


@dataclass(frozen=True)
class StatusRow:
    operation: str
    counts: dict[int, int]
    declared: tuple[int, ...]


def status_matrix(contract: Contract, exchanges: list[Exchange]) -> tuple[list[int], list[StatusRow]]:
    """Columns (every status declared or seen) and one row per operation, in the contract's order."""
    counts: dict[str, Counter[int]] = {op.label: Counter() for op in contract.operations.values()}
    for item in exchanges:
        counts.setdefault(item.operation, Counter())[item.status] += 1
    rows = []
    for op in contract.operations.values():
        rows.append(StatusRow(op.label, dict(counts.pop(op.label)), op.statuses))
    rows += [StatusRow(label, dict(seen), ()) for label, seen in sorted(counts.items())]
    columns = sorted({s for row in rows for s in row.counts} | {s for row in rows for s in row.declared})
    return columns, rows


def phase_transitions(exchanges: list[Exchange]) -> Counter[tuple[str, str]]:
    """Consecutive distinct phases observed per training, with creation and disappearance as pseudo-phases."""
    last: dict[str, str] = {}
    transitions: Counter[tuple[str, str]] = Counter()
    for item in exchanges:
        if item.workload_id is None or not item.authenticated or item.probe:
            continue
        if item.actual_phase is not None:
            phase = item.actual_phase
        elif item.status == 404 and item.workload_id in last:
            phase = GONE
        else:
            continue
        before = last.get(item.workload_id, CREATED)
        if before != phase:
            transitions[(before, phase)] += 1
        last[item.workload_id] = phase
    return transitions


def actions_by_phase(contract: Contract, exchanges: list[Exchange]) -> dict[str, Counter[str]]:
    """Per operation on one workload (get, suspend, resume, update, delete of every kind), its 2xx answers
    counted by the phase the workload was last seen in before the request: how far fuzzing reached into
    the lifecycle."""
    labels = [contract.operation(op).label for op in ON_ONE_WORKLOAD if op in contract.operations]
    counts: dict[str, Counter[str]] = {label: Counter() for label in labels}
    last: dict[str, str] = {}
    for item in exchanges:
        if item.workload_id is None or not item.authenticated or item.probe:
            continue
        if item.operation in counts and 200 <= item.status < 300 and item.workload_id in last:
            counts[item.operation][last[item.workload_id]] += 1
        if item.actual_phase is not None:
            last[item.workload_id] = item.actual_phase
    return counts

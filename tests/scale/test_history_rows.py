"""The hub formats each training's phase changes once and reuses them; what it shows is what formatting
the whole history afresh shows, however the history grows (or is replaced, after a reset)."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from mockserver.cluster.phases import Phase
from mockserver.dashboard import hub
from mockserver.dashboard.hub import HISTORY, HistoryRows


@dataclass(frozen=True)
class Change:
    time: float
    phase: Phase
    reason: str | None = None


def fresh(training: Any, start: int) -> list[dict[str, Any]]:
    return [hub._phase_row(c) for c in training.history[start:]]


def test_the_reused_rows_are_the_rows_formatted_afresh(monkeypatch: Any) -> None:
    formatted: list[float] = []
    real = hub._phase_row

    def counting(change: Any) -> dict[str, Any]:
        formatted.append(change.time)
        return real(change)

    shown = HistoryRows()
    phases = [Phase.PENDING, Phase.RUNNING, Phase.FAILED]
    training = SimpleNamespace(workload_id="w", history=[])
    for step in range(3 * HISTORY):
        training.history.append(Change(1_700_000_000.0 + step, phases[step % 3], f"r{step}"))
        total = len(training.history)
        for since in (0, max(0, total - 3), max(0, total - HISTORY)):
            start = max(since, total - HISTORY)
            monkeypatch.setattr(hub, "_phase_row", counting)
            got = shown.rows(training, start)
            monkeypatch.setattr(hub, "_phase_row", real)
            assert got == fresh(training, start)
    # Each change was formatted once, though every step showed up to HISTORY of them three times.
    assert sorted(formatted) == sorted(set(formatted)) and len(formatted) == 3 * HISTORY
    # A history replaced by another of the same length (a reset, then the same number of changes).
    training.history = [Change(5.0 + i, Phase.RUNNING) for i in range(len(training.history))]
    assert shown.rows(training, len(training.history) - 5) == fresh(training, len(training.history) - 5)
    training.history = training.history[:7]  # shorter
    assert shown.rows(training, 0) == fresh(training, 0)

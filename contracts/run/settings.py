"""What a run's fuzzing is asked to do: the Schemathesis phases and their settings (plain data)."""

from __future__ import annotations

from dataclasses import dataclass

PHASES = ("examples", "coverage", "fuzzing", "stateful")


@dataclass(frozen=True)
class FuzzSettings:
    phases: tuple[str, ...] = PHASES
    max_examples: int = 20
    max_time: int | None = None
    workers: int = 1
    seed: int = 0

"""--max-duration: the run's time budget, and what is kept of it for cleanup."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

# Seconds of a --max-duration budget kept for deleting what the run created (at most a tenth of it).
CLEANUP_RESERVE = 30.0


@dataclass
class Budget:
    """--max-duration: when the run must be done; fuzzing stops early enough to leave time for cleanup."""

    seconds: float | None
    started: float = field(default_factory=time.monotonic)

    @property
    def deadline(self) -> float | None:
        return None if self.seconds is None else self.started + self.seconds

    @property
    def fuzz_deadline(self) -> float | None:
        if self.seconds is None:
            return None
        return self.started + self.seconds - min(CLEANUP_RESERVE, self.seconds / 10)

    def spent(self) -> bool:
        deadline = self.fuzz_deadline
        return deadline is not None and time.monotonic() >= deadline

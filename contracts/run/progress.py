"""What a person watching a run reads: one line per step, each with the time spent (and the budget)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum


class Verbosity(int, Enum):
    QUIET = 0  # only the verdict and where the reports are
    NORMAL = 1  # phases, their counts, scenarios and the phase each waits for
    VERBOSE = 2  # every phase a scenario sees while it waits, every 25 fuzzing scenarios


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _clock(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}:{rest:02d}"


@dataclass
class Progress:
    verbosity: Verbosity = Verbosity.NORMAL
    budget: float | None = None  # --max-duration, in seconds
    write: Callable[[str], None] = _stderr
    clock: Callable[[], float] = time.monotonic
    started: float = field(default=-1.0)

    def __post_init__(self) -> None:
        if self.started < 0:
            self.started = self.clock()

    def elapsed(self) -> float:
        return self.clock() - self.started

    def _line(self, message: str) -> str:
        budget = f" / {_clock(self.budget)}" if self.budget is not None else ""
        return f"contracts [{_clock(self.elapsed())}{budget}] {message}"

    def say(self, message: str) -> None:
        if self.verbosity >= Verbosity.NORMAL:
            self.write(self._line(message))

    def detail(self, message: str) -> None:
        if self.verbosity >= Verbosity.VERBOSE:
            self.write(self._line(message))


SILENT = Progress(Verbosity.QUIET, write=lambda line: None)

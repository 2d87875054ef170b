"""Virtual time: every timestamp the fake shows comes from one of these clocks, never from the wall directly."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache

# A fixed start makes manual-clock runs reproducible byte for byte (createdAt included).
MANUAL_EPOCH = datetime(2025, 1, 1, tzinfo=timezone.utc).timestamp()


@dataclass
class ManualClock:
    """Moves only when told to (through the control API or a test)."""

    start: float = MANUAL_EPOCH
    mode: str = field(default="manual", init=False)
    _now: float = field(init=False)

    def __post_init__(self) -> None:
        self._now = self.start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock cannot go backwards")
        self._now += seconds

    def reset(self) -> None:
        self._now = self.start

    @property
    def speed(self) -> float:
        return 0.0


@dataclass
class RealtimeClock:
    """Follows the wall clock from start-up, `speed` times faster."""

    speed: float = 1.0
    mode: str = field(default="realtime", init=False)
    start: float = field(default_factory=time.time)
    _origin: float = field(default_factory=time.monotonic, init=False)

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError("speed must be positive")

    def now(self) -> float:
        return self.start + (time.monotonic() - self._origin) * self.speed

    def advance(self, seconds: float) -> None:
        raise ValueError("a realtime clock cannot be advanced; start the server with --clock manual")

    def reset(self) -> None:
        self.start = time.time()
        self._origin = time.monotonic()


Clock = ManualClock | RealtimeClock


@lru_cache(maxsize=8192)
def isoformat(timestamp: float) -> str:
    """RFC 3339 with milliseconds and Z, as the API's examples show it. Remembered: a list page renders
    five of them per row, and the rows of a polled page are the same workloads each time."""
    moment = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

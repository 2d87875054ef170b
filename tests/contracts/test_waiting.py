"""How scenarios wait: the fake's clock is advanced step by step; a live backend is polled until a timeout."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from contracts.scenarios import ScenarioFailed, VirtualTime, WallTime


class StubControl:
    def __init__(self) -> None:
        self.advanced: list[float] = []

    def advance(self, seconds: float) -> None:
        self.advanced.append(seconds)


def reader(phases: list[str]) -> Iterator[str]:
    yield from phases
    while True:
        yield phases[-1]


def test_virtual_time_reads_every_second_then_coarser() -> None:
    control = StubControl()
    phases = reader(["Creating"] * 70 + ["Running"])
    waiting = VirtualTime(control, limit_seconds=600)  # type: ignore[arg-type]
    assert waiting.until(lambda: next(phases), {"Running"}, "wait") == "Running"
    assert control.advanced == [1] * 60 + [10] * 10


def test_virtual_time_gives_up_with_the_phase_it_saw() -> None:
    waiting = VirtualTime(StubControl(), limit_seconds=30)  # type: ignore[arg-type]
    with pytest.raises(ScenarioFailed, match="still Pending after 30 virtual seconds"):
        waiting.until(lambda: "Pending", {"Running"}, "waiting for Running")


def test_wall_time_polls_and_reports_progress() -> None:
    messages: list[str] = []
    phases = reader(["Pending", "Initializing", "Running"])
    waiting = WallTime(timeout=60, interval=0, progress=messages.append)
    assert waiting.until(lambda: next(phases), {"Running"}, "waiting for Running") == "Running"
    assert [m.split(":")[1].split()[0] for m in messages] == ["Pending", "Initializing"]


def test_wall_time_times_out() -> None:
    waiting = WallTime(timeout=0, interval=0, progress=lambda message: None)
    with pytest.raises(ScenarioFailed, match="still Pending"):
        waiting.until(lambda: "Pending", {"Running"}, "waiting for Running")

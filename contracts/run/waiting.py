"""Waiting for a training to show a phase: on the fake's manual clock, or polling a live backend.

A wait gives up at once when the phase wanted can no longer be reached (a finding), and otherwise after
its time limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from contracts.backend.control import FakeControl
from contracts.oracle.phases import TERMINAL, UNKNOWN, Action, reachable
from contracts.run.events import Emit, PhaseSeen

GONE = "(404)"
# Where the budget (--max-duration) is spent, the scenario stops and is reported as skipped.
BUDGET_SPENT = "--max-duration budget spent"


class ScenarioFailed(Exception):
    """The backend did not do what the scenario expects next."""


class BudgetSpent(Exception):
    """The run's time budget ran out while the scenario was still waiting."""


def can_still_reach(phase: str, wanted: frozenset[str], actions: Sequence[Action] = ()) -> bool:
    """Whether a training showing `phase` may still show one of `wanted` (GONE meaning 404).

    `actions` are those sent since the last phase the scenario saw; a read may come before or after each
    took effect, so every suffix of them counts. A phase that says nothing (Unknown) keeps every hope.
    """
    if phase == UNKNOWN:
        return True
    if phase == GONE:
        return GONE in wanted
    possible: set[str] = set()
    for start in range(len(actions) + 1):
        possible |= reachable(phase, actions[start:])
    # Deleted, or deleted automatically once finished: a 404 can follow Deleting and the terminal phases.
    if GONE in wanted and possible & (TERMINAL | {"Deleting"}):
        return True
    return bool(possible & wanted)


class Waiting(Protocol):
    def until(
        self,
        read: Callable[[], str],
        wanted: frozenset[str],
        what: str,
        actions: Sequence[Action] = (),
        before: str | None = None,
    ) -> str: ...


def _ignored(phase: str, before: str | None, actions: Sequence[Action], what: str, after: str) -> None:
    """Past the grace period, the phase must show that the actions took effect (or were no-ops)."""
    if not actions or before is None or phase in (UNKNOWN, GONE):
        return
    if phase not in reachable(before, actions):
        sent = ", ".join(action.value for action in actions)
        raise ScenarioFailed(
            f"{what}: still {phase} {after} after {sent} (it was {before}): the {actions[-1].value} "
            "did not take effect"
        )


def _hopeless(phase: str, wanted: frozenset[str], what: str, actions: Sequence[Action], after: str) -> None:
    if not can_still_reach(phase, wanted, actions):
        seen = "gone (404)" if phase == GONE else phase
        raise ScenarioFailed(
            f"{what}: the training is {seen} after {after}, from where "
            f"{' or '.join(sorted(wanted))} can no longer be reached"
        )


@dataclass
class VirtualTime:
    """Advances the fake's manual clock, reading after each step: one second at a time for the first
    minute (the default stages take seconds, so no phase is missed), then ten at a time up to the limit."""

    control: FakeControl
    limit_seconds: int = 900
    fine_seconds: int = 60
    # Virtual seconds after which an accepted action must show (the fake applies them at once).
    grace_seconds: int = 30

    def until(
        self,
        read: Callable[[], str],
        wanted: frozenset[str],
        what: str,
        actions: Sequence[Action] = (),
        before: str | None = None,
    ) -> str:
        waited = 0
        phase = read()
        while phase not in wanted:
            _hopeless(phase, wanted, what, actions, f"{waited} virtual seconds")
            if waited >= self.grace_seconds:
                _ignored(phase, before, actions, what, f"{waited} virtual seconds")
            if waited >= self.limit_seconds:
                raise ScenarioFailed(f"{what}: still {phase} after {waited} virtual seconds")
            step = 1 if waited < self.fine_seconds else 10
            self.control.advance(step)
            waited += step
            phase = read()
        return phase


@dataclass
class WallTime:
    """Polls a live backend: fast at first (a phase can be short), then backing off to `interval`; gives
    up at once when the training can no longer reach the wanted phase, else after `timeout`."""

    timeout: float
    interval: float
    emit: Emit
    first_interval: float = 0.2
    growth: float = 1.5
    deadline: float | None = None  # time.monotonic() at which the run's budget is spent
    # Seconds after which an accepted action must show in actualPhase; a real cluster takes a few.
    grace: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def until(
        self,
        read: Callable[[], str],
        wanted: frozenset[str],
        what: str,
        actions: Sequence[Action] = (),
        before: str | None = None,
    ) -> str:
        started = self.clock()
        pause = min(self.first_interval, self.interval)
        last = None
        while True:
            phase = read()
            waited = self.clock() - started
            if phase in wanted:
                return phase
            _hopeless(phase, wanted, what, actions, f"{waited:.1f} s")
            if waited >= self.grace:
                _ignored(phase, before, actions, what, f"{waited:.0f} s")
            if waited >= self.timeout:
                raise ScenarioFailed(f"{what}: still {phase} after {self.timeout:.0f} s")
            if self.deadline is not None and self.clock() + pause >= self.deadline:
                raise BudgetSpent(f"{what}: {BUDGET_SPENT} (last seen {phase})")
            if phase != last:
                self.emit(PhaseSeen(what, phase, waited))
                last = phase
            self.sleep(pause)
            pause = min(pause * self.growth, self.interval)

"""Waiting for a training to show a phase: on the fake's manual clock, or polling a live backend.

A wait gives up at once when the phase wanted can no longer be reached (a finding), and otherwise after
its time limit. A training the cluster holds Pending for a reason of its own (no capacity, over quota,
over limit: whatever the scheduler says) is no finding: the wait ends *inconclusive*, with that reason.
Pending with no reason given past the limit is still a finding.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from contracts.backend.control import FakeControl
from contracts.oracle.phases import TERMINAL, UNKNOWN, Action, reachable
from contracts.run.events import Emit, Held, PhaseSeen, StillWaiting

GONE = "(404)"
# Where the budget (--max-duration) is spent, the scenario stops and is reported as skipped.
BUDGET_SPENT = "--max-duration budget spent"
# Phases in which the cluster, not the backend's API, decides how long a training waits.
HELD_PHASES = frozenset({"Pending"})
# A wait's limit is at least this many times the longest the run has seen the phase last (a slow cluster
# is slow everywhere: the limit adapts to it instead of calling it a violation).
ADAPT = 3.0
# Seconds between two "still waiting" lines, and between two questions about why.
REPORT_EVERY = 30.0
ASK_WHY_EVERY = 5.0
# A wait that goes round several phases (restarts) ends after this many of its limits.
ROUNDS = 3
Why = Callable[[], "str | None"]


class ScenarioFailed(Exception):
    """The backend did not do what the scenario expects next."""


class ScenarioInconclusive(Exception):
    """The cluster held the training (e.g. no room for the project): neither a pass nor a finding."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


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
        why: Why | None = None,
        patience: float | None = None,
    ) -> str:
        """Read until a phase in `wanted` shows. `why` asks the backend why the training is held (its
        scheduler's reason, or None); `patience`: seconds a held training is waited for before the wait
        ends inconclusive (default: the wait's limit)."""


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


def _held(what: str, phase: str, after: str, reason: str) -> ScenarioInconclusive:
    return ScenarioInconclusive(f"{what}: held {phase} by the cluster for {after}: {reason}", reason)


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
        why: Why | None = None,
        patience: float | None = None,
    ) -> str:
        waited = 0
        phase = read()
        while phase not in wanted:
            _hopeless(phase, wanted, what, actions, f"{waited} virtual seconds")
            if waited >= self.grace_seconds:
                _ignored(phase, before, actions, what, f"{waited} virtual seconds")
            held_long = patience is not None and waited >= patience
            if why is not None and phase in HELD_PHASES and (held_long or waited >= self.limit_seconds):
                reason = why()
                if reason:
                    raise _held(what, phase, f"{waited} virtual seconds", reason)
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
    up at once when the training can no longer reach the wanted phase, else after its limit: `timeout`,
    or ADAPT times the longest the run has seen the phase last, whichever is longer. While it waits, it
    says which phase, for how long, and (while Pending) the reason the backend gives."""

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
    # The longest each phase has lasted in the waits so far (seconds), which the limits adapt to.
    dwell: dict[str, float] = field(default_factory=dict)

    def limit(self, phase: str) -> float:
        return max(self.timeout, ADAPT * self.dwell.get(phase, 0.0))

    def _dwelt(self, phase: str, seconds: float) -> None:
        self.dwell[phase] = max(self.dwell.get(phase, 0.0), seconds)

    def until(
        self,
        read: Callable[[], str],
        wanted: frozenset[str],
        what: str,
        actions: Sequence[Action] = (),
        before: str | None = None,
        why: Why | None = None,
        patience: float | None = None,
    ) -> str:
        started = self.clock()
        pause = min(self.first_interval, self.interval)
        last, since = None, started
        reason: str | None = None
        asked, reported = -ASK_WHY_EVERY, 0.0
        while True:
            phase = read()
            now = self.clock()
            waited = now - started
            if phase != last:
                if last is not None:
                    self._dwelt(last, now - since)
                if phase in wanted:
                    return phase
                last, since, reason, asked = phase, now, None, -ASK_WHY_EVERY
                self.emit(PhaseSeen(what, phase, waited))
            if phase in wanted:
                return phase
            _hopeless(phase, wanted, what, actions, f"{waited:.1f} s")
            if waited >= self.grace:
                _ignored(phase, before, actions, what, f"{waited:.0f} s")
            if why is not None and phase in HELD_PHASES and waited - asked >= ASK_WHY_EVERY:
                asked, told = waited, why()
                if told and told != reason:
                    self.emit(Held(what, phase, now - since, told))
                reason = told
            in_phase = now - since
            if reason and patience is not None and in_phase >= patience:
                raise _held(what, phase, f"{in_phase:.0f} s", reason)
            # A phase lasting too long, or a wait going round phases (restarts) for too long.
            if in_phase >= self.limit(phase) or waited >= ROUNDS * self.limit(phase):
                if reason:
                    raise _held(what, phase, f"{in_phase:.0f} s", reason)
                raise ScenarioFailed(
                    f"{what}: still {phase} after {waited:.0f} s (the backend gives no reason)"
                )
            if self.deadline is not None and now + pause >= self.deadline:
                raise BudgetSpent(f"{what}: {BUDGET_SPENT} (last seen {phase})")
            if waited - reported >= REPORT_EVERY:
                reported = waited
                self.emit(StillWaiting(what, phase, in_phase, reason))
            self.sleep(pause)
            pause = min(pause * self.growth, self.interval)

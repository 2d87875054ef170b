"""The run's event stream: the run says once what happened; handlers decide what to do with it.

The journal records trainings, the progress lines tell the person watching, the report collector gathers
what the reports show. Schemathesis' engine is built the same way (an event stream with handlers), and
this stream sits on top of it: `fuzz` folds the engine's events into these.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from contracts.backend.journal import Journal
from contracts.oracle.findings import Exchange, Finding
from contracts.run.outcome import Room, RunOutcome, ScenarioResult
from contracts.run.progress import Progress


@dataclass(frozen=True)
class RunStarted:
    target: str
    seed: int


@dataclass(frozen=True)
class RunInterrupted:
    reason: str  # e.g. "interrupted (SIGINT) after 12 requests"


@dataclass(frozen=True)
class CleanupStarted:
    pass


@dataclass(frozen=True)
class RunFinished:
    conforms: bool


@dataclass(frozen=True)
class PhaseCounts:
    """A Schemathesis phase so far: its scenarios, the requests they sent and the checks that failed."""

    name: str
    scenarios: int
    requests: int
    failures: int
    seconds: float


@dataclass(frozen=True)
class PhaseStarted:
    name: str


@dataclass(frozen=True)
class PhaseProgress:
    counts: PhaseCounts


@dataclass(frozen=True)
class PhaseFinished:
    counts: PhaseCounts


@dataclass(frozen=True)
class CaseAnswered:
    """One request the backend answered, fuzzed or sent by a scenario."""

    exchange: Exchange


@dataclass(frozen=True)
class FindingReported:
    """A broken rule the fuzzing engine found (a scenario's findings come with its ScenarioFinished)."""

    finding: Finding


@dataclass(frozen=True)
class WorkloadCreated:
    workload_id: str
    name: str
    project_id: str
    kind: str = "trainings"  # its collection: see contracts.specs.Kind


@dataclass(frozen=True)
class WorkloadDeleted:
    workload_id: str
    kind: str = "trainings"


@dataclass(frozen=True)
class RoomRead:
    """What the backend said of the project's room (quota, allocation) before the scenarios."""

    room: Room


@dataclass(frozen=True)
class ScenarioStarted:
    name: str
    title: str


@dataclass(frozen=True)
class WaitingFor:
    """A scenario starts waiting for a training to show one of some phases."""

    what: str


@dataclass(frozen=True)
class PhaseSeen:
    """While a scenario waits on wall time, the training shows a phase it had not shown yet."""

    what: str
    phase: str
    seconds: float


@dataclass(frozen=True)
class Held:
    """While a scenario waits, the backend says why the training is held (its scheduler's reason)."""

    what: str
    phase: str
    seconds: float  # in that phase so far
    reason: str


@dataclass(frozen=True)
class StillWaiting:
    """A scenario still waits: the phase, how long the training has been in it, and why (if told)."""

    what: str
    phase: str
    seconds: float
    reason: str | None


@dataclass(frozen=True)
class ScenarioFinished:
    result: ScenarioResult


@dataclass(frozen=True)
class ScenarioSkipped:
    """A scenario that never started (writes refused, budget spent, run interrupted)."""

    result: ScenarioResult


Event = (
    RunStarted
    | RunInterrupted
    | CleanupStarted
    | RunFinished
    | PhaseStarted
    | PhaseProgress
    | PhaseFinished
    | CaseAnswered
    | FindingReported
    | WorkloadCreated
    | WorkloadDeleted
    | RoomRead
    | ScenarioStarted
    | WaitingFor
    | PhaseSeen
    | Held
    | StillWaiting
    | ScenarioFinished
    | ScenarioSkipped
)
Handler = Callable[[Event], None]
Emit = Callable[[Event], None]


def ignore(event: Event) -> None:
    """An emitter for code run without a stream (tests of one part)."""


class EventStream:
    """Handlers see every event in the order emitted. Fuzzing workers emit from their own threads (a
    training created is journalled at once), so one event is handled completely before the next."""

    def __init__(self, *handlers: Handler) -> None:
        self._handlers = list(handlers)
        self._lock = threading.RLock()

    def subscribe(self, handler: Handler) -> None:
        self._handlers.append(handler)

    def emit(self, event: Event) -> None:
        with self._lock:
            for handler in self._handlers:
                handler(event)


def journal_handler(journal: Journal) -> Handler:
    """Every workload the run creates is on disk before the run goes on, so a crash leaves the list."""

    def handle(event: Event) -> None:
        if isinstance(event, WorkloadCreated):
            journal.created(event.workload_id, event.name, event.project_id, event.kind)
        elif isinstance(event, WorkloadDeleted):
            journal.deleted(event.workload_id, event.kind)

    return handle


def _phase_line(counts: PhaseCounts) -> str:
    return (
        f"schemathesis {counts.name}: {counts.scenarios} scenarios, {counts.requests} requests, "
        f"{counts.failures} failing checks, {counts.seconds:.0f} s"
    )


def progress_handler(progress: Progress) -> Handler:
    """The lines a person watching reads (`say`), and those only --verbose shows (`detail`)."""

    def handle(event: Event) -> None:
        if isinstance(event, RunStarted):
            progress.say(f"target: {event.target}; seed {event.seed}")
        elif isinstance(event, RunInterrupted):
            progress.say(f"{event.reason}: cleaning up")
        elif isinstance(event, CleanupStarted):
            progress.say("cleanup: deleting what the run created")
        elif isinstance(event, PhaseStarted):
            progress.say(f"schemathesis {event.name} phase")
        elif isinstance(event, PhaseProgress):
            progress.detail(_phase_line(event.counts))
        elif isinstance(event, PhaseFinished):
            progress.say(_phase_line(event.counts))
        elif isinstance(event, RoomRead):
            for line in event.room.lines:
                progress.say(f"room: {line}")
            if event.room.blocked:
                progress.say(f"room: {event.room.blocked}")
        elif isinstance(event, ScenarioStarted):
            progress.say(f"scenario {event.name}: {event.title}")
        elif isinstance(event, WaitingFor):
            progress.say(f"  {event.what}")
        elif isinstance(event, PhaseSeen):
            progress.detail(f"  {event.what}: {event.phase} after {event.seconds:.1f} s")
        elif isinstance(event, Held):
            progress.say(
                f"  {event.what}: {event.phase} for {event.seconds:.0f} s; the backend says: {event.reason}"
            )
        elif isinstance(event, StillWaiting):
            why = f"; the backend says: {event.reason}" if event.reason else "; no reason given"
            progress.say(f"  {event.what}: {event.phase} for {event.seconds:.0f} s{why}")
        elif isinstance(event, ScenarioFinished):
            result = event.result
            why = f": {result.reason}" if result.reason else ""
            progress.say(f"scenario {result.name}: {result.outcome} ({result.seconds:.0f} s){why}")

    return handle


class ReportCollector:
    """Gathers into the outcome what the reports show: every answered request, the fuzzing engine's
    findings (kept apart: the run puts them first) and every scenario's result."""

    def __init__(self, outcome: RunOutcome) -> None:
        self.outcome = outcome
        self.fuzz_findings: list[Finding] = []

    def __call__(self, event: Event) -> None:
        if isinstance(event, CaseAnswered):
            self.outcome.exchanges.append(event.exchange)
        elif isinstance(event, FindingReported):
            self.fuzz_findings.append(event.finding)
        elif isinstance(event, (ScenarioFinished, ScenarioSkipped)):
            self.outcome.scenarios.append(event.result)

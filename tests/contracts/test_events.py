"""The run's event stream: each handler turns the events it cares about into what it owns (progress lines,
journal entries, the outcome the reports show), and ignores the rest."""

from __future__ import annotations

from pathlib import Path

from contracts.backend.journal import Journal, leftovers
from contracts.oracle.findings import Exchange, Finding
from contracts.run.events import (
    CaseAnswered,
    CleanupStarted,
    Event,
    EventStream,
    FindingReported,
    PhaseCounts,
    PhaseFinished,
    PhaseProgress,
    PhaseSeen,
    PhaseStarted,
    ReportCollector,
    RunFinished,
    RunInterrupted,
    RunStarted,
    ScenarioFinished,
    ScenarioSkipped,
    ScenarioStarted,
    WaitingFor,
    WorkloadCreated,
    WorkloadDeleted,
    journal_handler,
    progress_handler,
)
from contracts.run.outcome import RunOutcome, ScenarioResult
from contracts.run.progress import Progress, Verbosity
from contracts.run.settings import FuzzSettings
from contracts.specs import load_contract

COUNTS = PhaseCounts("fuzzing", 25, 40, 2, 7.4)
EXCHANGE = Exchange("GET /api/v1/workloads/trainings", 200, True)
FINDING = Finding(check="c", operation="(run)", title="t", message="m", source="fuzzing")
RESULT = ScenarioResult("lifecycle", "create -> Running", "passed", seconds=12.3)

EVERY_KIND: list[Event] = [
    RunStarted("our fake", 3),
    PhaseStarted("fuzzing"),
    PhaseProgress(COUNTS),
    CaseAnswered(EXCHANGE),
    FindingReported(FINDING),
    PhaseFinished(COUNTS),
    ScenarioStarted("lifecycle", "create -> Running"),
    WaitingFor("waiting for Running"),
    PhaseSeen("waiting for Running", "Pending", 0.04),
    WorkloadCreated("w1", "ct-abc-life", "p1"),
    WorkloadDeleted("w1"),
    ScenarioFinished(RESULT),
    ScenarioSkipped(ScenarioResult("views", "views", "skipped")),
    RunInterrupted("interrupted (SIGINT) after 3 requests"),
    CleanupStarted(),
    RunFinished(conforms=False),
]


def lines_for(verbosity: Verbosity) -> list[str]:
    lines: list[str] = []
    progress = Progress(verbosity, write=lines.append, clock=lambda: 0.0)
    stream = EventStream(progress_handler(progress))
    for event in EVERY_KIND:
        stream.emit(event)
    return lines


def test_progress_says_each_step_and_details_only_when_verbose() -> None:
    normal = [
        "contracts [0:00] target: our fake; seed 3",
        "contracts [0:00] schemathesis fuzzing phase",
        "contracts [0:00] schemathesis fuzzing: 25 scenarios, 40 requests, 2 failing checks, 7 s",
        "contracts [0:00] scenario lifecycle: create -> Running",
        "contracts [0:00]   waiting for Running",
        "contracts [0:00] scenario lifecycle: passed (12 s)",
        "contracts [0:00] interrupted (SIGINT) after 3 requests: cleaning up",
        "contracts [0:00] cleanup: deleting what the run created",
    ]
    assert lines_for(Verbosity.NORMAL) == normal
    verbose = lines_for(Verbosity.VERBOSE)
    progress_line = "contracts [0:00] schemathesis fuzzing: 25 scenarios, 40 requests, 2 failing checks, 7 s"
    seen_line = "contracts [0:00]   waiting for Running: Pending after 0.0 s"
    assert verbose == [*normal[:2], progress_line, *normal[2:5], seen_line, *normal[5:]]
    assert lines_for(Verbosity.QUIET) == []


def test_the_journal_records_trainings_and_nothing_else(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl", "abc", "http://127.0.0.1:1", fresh=True)
    stream = EventStream(journal_handler(journal))
    for event in EVERY_KIND:
        stream.emit(event)
    stream.emit(WorkloadCreated("w2", "ct-abc-two", "p1"))
    assert [(e.workload_id, e.name) for e in leftovers(journal.path)] == [("w2", "ct-abc-two")]
    assert len(journal.path.read_text().splitlines()) == 3


def test_the_collector_gathers_what_the_reports_show() -> None:
    outcome = RunOutcome("our fake", load_contract(None), FuzzSettings(), "abc", "allowed")
    collector = ReportCollector(outcome)
    stream = EventStream()
    stream.subscribe(collector)
    for event in EVERY_KIND:
        stream.emit(event)
    assert outcome.exchanges == [EXCHANGE]
    assert collector.fuzz_findings == [FINDING]
    assert [s.name for s in outcome.scenarios] == ["lifecycle", "views"]
    assert outcome.findings == []  # the run decides how findings are put together


def test_handlers_see_events_in_the_order_emitted() -> None:
    seen: list[tuple[str, Event]] = []
    stream = EventStream(lambda event: seen.append(("first", event)))
    stream.subscribe(lambda event: seen.append(("second", event)))
    stream.emit(PhaseStarted("examples"))
    stream.emit(PhaseStarted("coverage"))
    assert [(who, e.name) for who, e in seen if isinstance(e, PhaseStarted)] == [
        ("first", "examples"),
        ("second", "examples"),
        ("first", "coverage"),
        ("second", "coverage"),
    ]

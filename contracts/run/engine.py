"""Schemathesis' engine, run to the end or until the budget or an interrupt stops it; what it sees and
finds is folded into the run's event stream."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import requests
from schemathesis.engine import Status, events, from_schema
from schemathesis.engine import context as engine_context
from schemathesis.specs.openapi.schemas import OpenApiSchema

from contracts import limits
from contracts.oracle.findings import exchange, finding_from_failure
from contracts.reports.curl import curl_line
from contracts.run.determinism import generate_from_the_contract_alone
from contracts.run.events import (
    CaseAnswered,
    Emit,
    FindingReported,
    PhaseCounts,
    PhaseFinished,
    PhaseProgress,
    PhaseStarted,
)
from contracts.run.interruption import requested as interruption_requested
from contracts.run.settings import PHASES

# Why the engine stopped before it was done.
BUDGET = "--max-duration budget spent"
INTERRUPTED = "interrupted"


@dataclass
class FuzzResult:
    """What the engine leaves besides its events (answered requests and findings go to the stream)."""

    errors: list[str] = field(default_factory=list)
    stopped_by: str | None = None
    # Seconds spent per operation (label), for JUnit's per-case time.
    operation_seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class PhaseTally:
    """Progress of one Schemathesis phase, for the person watching."""

    name: str
    started: float
    requests: int = 0
    failures: int = 0
    scenarios: int = 0

    def counts(self, now: float) -> PhaseCounts:
        return PhaseCounts(self.name, self.scenarios, self.requests, self.failures, now - self.started)


def session_without_environment(session: requests.Session) -> requests.Session:
    """`session`, told not to consult the environment (proxy variables, .netrc, a CA bundle) on each
    request: for a fake the run started on loopback, for which nothing there is meant. requests looks
    them all up again for every request (a third of a millisecond each, here)."""
    session.trust_env = False
    return session


@contextlib.contextmanager
def engine_sessions_without_environment(enabled: bool) -> Iterator[None]:
    """While a run is in it, the requests sessions Schemathesis' engine makes (one per worker thread)
    read every answer within the run's limits (contracts.limits) and, if `enabled`, do not consult the
    environment. The engine offers no setting for either, so its session factory is wrapped."""
    original = getattr(engine_context, "make_session", None)
    if original is None:
        yield
        return

    def make_session(*args: Any, **kwargs: Any) -> requests.Session:
        session = limits.bound_session(original(*args, **kwargs))
        return session_without_environment(session) if enabled else session

    engine_context.make_session = make_session
    try:
        yield
    finally:
        engine_context.make_session = original


def run_engine(
    schema: OpenApiSchema, emit: Emit, deadline: float | None = None, *, ignore_environment: bool = False
) -> FuzzResult:
    """Run Schemathesis to the end, or until `deadline` (time.monotonic()) or an interrupt stops it; what
    it sees and finds is emitted as it comes. `ignore_environment`: see engine_sessions_without_environment."""
    with engine_sessions_without_environment(ignore_environment):
        return _run_engine(schema, emit, deadline)


def _run_engine(schema: OpenApiSchema, emit: Emit, deadline: float | None) -> FuzzResult:
    generate_from_the_contract_alone()
    result = FuzzResult()
    stream = from_schema(schema).execute()
    tally: PhaseTally | None = None

    def out_of_time() -> None:
        # A phase can go a long while between two events (coverage reports once per operation), so the
        # budget stops the engine from a timer rather than from the event loop.
        if result.stopped_by is None:
            result.stopped_by = BUDGET
        stream.stop()

    timer = threading.Timer(max(0.0, deadline - time.monotonic()), out_of_time) if deadline else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        for event in stream:
            if result.stopped_by is None and interruption_requested():
                result.stopped_by = INTERRUPTED
                stream.stop()
            tally = _handle(event, result, emit, tally, schema.config.base_url)
    finally:
        if timer is not None:
            timer.cancel()
    return result


def _handle(
    event: events.EngineEvent,
    result: FuzzResult,
    emit: Emit,
    tally: PhaseTally | None,
    base_url: str | None,
) -> PhaseTally | None:
    """Turn one engine event into ours (and the result); returns the phase now being counted."""
    if isinstance(event, events.PhaseStarted) and event.phase.is_enabled:
        if event.phase.name.value in PHASES:
            tally = PhaseTally(event.phase.name.value, time.monotonic())
            emit(PhaseStarted(tally.name))
    elif isinstance(event, events.PhaseFinished) and tally is not None:
        if event.phase.name.value == tally.name:
            emit(PhaseFinished(tally.counts(time.monotonic())))
            tally = None
    elif isinstance(event, events.ScenarioFinished):
        requests, failures = _collect(event, emit, base_url)
        _add_time(event, result)
        if tally is not None:
            tally.scenarios += 1
            tally.requests += requests
            tally.failures += failures
            if tally.scenarios % 25 == 0:
                emit(PhaseProgress(tally.counts(time.monotonic())))
    elif isinstance(event, events.Interrupted):
        result.stopped_by = result.stopped_by or INTERRUPTED
    elif isinstance(event, events.NonFatalError):
        if _budget_spent(event.value):
            # A request that met the --max-duration deadline: the run's budget, not a backend error.
            result.stopped_by = result.stopped_by or BUDGET
        else:
            result.errors.append(f"{event.label}: {event.info.title}: {event.info.message}".strip())
    elif isinstance(event, events.FatalError):
        result.errors.append(f"Schemathesis stopped: {event.exception!r}")
    elif isinstance(event, events.EngineFinished):
        source = "after run"
        for failure in event.failures:
            emit(FindingReported(finding_from_failure(failure, source, None)))
    return tally


def _budget_spent(error: BaseException | None) -> bool:
    """Whether `error`, or what it wraps, is the run's deadline (contracts.limits.OutOfTime)."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, limits.OutOfTime):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


def _add_time(event: events.ScenarioFinished, result: FuzzResult) -> None:
    """A scenario's time, shared among the operations it called (a stateful one calls several)."""
    labels = sorted({node.value.operation.label for node in event.recorder.cases.values()})
    for label in labels:
        share = event.elapsed_time / len(labels)
        result.operation_seconds[label] = result.operation_seconds.get(label, 0.0) + share


def _collect(event: events.ScenarioFinished, emit: Emit, base_url: str | None) -> tuple[int, int]:
    """Emit the scenario's answered requests and its failed checks; returns how many of each."""
    recorder = event.recorder
    requests = failures = 0
    source = event.phase.value
    for case_id, node in recorder.cases.items():
        interaction = recorder.interactions.get(case_id)
        if interaction is not None and interaction.response is not None:
            request, response = interaction.request, interaction.response
            label = node.value.operation.label
            answered = exchange(
                label, request.uri, response.status_code, _flat(request.headers), response.content
            )
            emit(CaseAnswered(answered))
            requests += 1
    for case_id, checks in recorder.checks.items():
        for check in checks:
            if check.status != Status.FAILURE or check.failure_info is None:
                continue
            failure = check.failure_info.failure
            interaction = recorder.interactions.get(failure.case_id or case_id)
            curl = None
            if interaction is not None:
                request = interaction.request
                curl = curl_line(
                    request.method, request.uri, _flat(request.headers), request.body, base_url=base_url
                )
            emit(FindingReported(finding_from_failure(failure, source, curl)))
            failures += 1
    return requests, failures


def _flat(headers: dict[str, list[str]]) -> dict[str, str]:
    """Recorded requests keep every value of a header; a curl line needs one."""
    return {name: values[0] for name, values in headers.items()}

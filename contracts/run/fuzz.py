"""Schemathesis wiring: configure the engine, let it fuzz the backend, and collect what it saw and found."""

from __future__ import annotations

import contextlib
import copy
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

import requests
import schemathesis
from schemathesis import Case
from schemathesis.config import SchemathesisConfig
from schemathesis.core.transport import Response
from schemathesis.engine import Status, events, from_schema
from schemathesis.engine import context as engine_context
from schemathesis.hooks import HookContext
from schemathesis.specs.openapi.schemas import OpenApiSchema

from contracts import limits
from contracts.backend.auth import TokenSource
from contracts.backend.control import FakeControl
from contracts.backend.safety import NameSource
from contracts.backend.target import Placement
from contracts.oracle.checks import ENABLE, json_body, operation_id
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
    TrainingCreated,
    TrainingDeleted,
)
from contracts.run.interruption import requested as interruption_requested
from contracts.specs import CREATE_OPERATION, DELETE_OPERATION, FUZZED_OPERATIONS, Contract

PHASES = ("examples", "coverage", "fuzzing", "stateful")
# Replaced by our own TrainingLifecycle check: a deleted training may be read while it is Deleting, which
# the built-in takes for a use-after-free; ours demands Deleting then 404 instead.
DISABLED_CHECKS = ("use_after_free",)
# Which answers to schema-valid data each operation may give (create and token may refuse it: policy,
# cluster, name and credential rules go beyond the schema; our lifecycle scenario proves that a sound body
# is accepted). One definition, shared with plain `schemathesis run`: the packaged schemathesis.toml.
# It sits at the top of the package, beside the CLI, one level above this layer.
ALLOWANCES_FILE = Path(__file__).parents[1] / "schemathesis.toml"


def acceptable_answers(path: Path = ALLOWANCES_FILE) -> dict[str, list[str]]:
    """operationId -> the statuses positive_data_acceptance accepts, for the operations a run fuzzes."""
    settings = tomllib.loads(path.read_text(encoding="utf-8"))
    found: dict[str, list[str]] = {}
    for project in settings.get("project", []):
        for entry in project.get("operations", []):
            named = entry.get("include-operation-id")
            statuses = entry.get("checks", {}).get("positive_data_acceptance", {}).get("expected-statuses")
            for operation in [named] if isinstance(named, str) else named or []:
                if operation in FUZZED_OPERATIONS and statuses:
                    found[operation] = list(statuses)
    return found


STATEFUL_MAX_STEPS = 8
REQUEST_TIMEOUT = 30


@dataclass(frozen=True)
class FuzzSettings:
    phases: tuple[str, ...] = PHASES
    max_examples: int = 20
    max_time: int | None = None
    workers: int = 1
    seed: int = 0


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


def schemathesis_config(base_url: str, settings: FuzzSettings) -> SchemathesisConfig:
    phases: dict[str, Any] = {name: {"enabled": name in settings.phases} for name in PHASES}
    phases["stateful"]["max-steps"] = STATEFUL_MAX_STEPS
    # The stateful phase follows a created training through the operations on it; negative data (a
    # dropped token, a body without spec) refused its first step and so ended nearly every chain there.
    # Malformed input is the coverage and fuzzing phases' work.
    phases["stateful"]["generation"] = {"mode": "positive"}
    data: dict[str, Any] = {
        "base-url": base_url,
        "seed": settings.seed,
        # Health checks time data generation on this machine; letting them fire would make the run's
        # outcome depend on load, not on the backend.
        "suppress-health-check": ["all"],
        "workers": settings.workers,
        "request-timeout": REQUEST_TIMEOUT,
        # Same seed, same cases: no example database carried over between runs, no per-project cache.
        "generation": {"max-examples": settings.max_examples, "database": "none"},
        "cache": {"enabled": False},
        "phases": phases,
        "checks": {**ENABLE, **{name: {"enabled": False} for name in DISABLED_CHECKS}},
        "operations": [
            {
                "include-operation-id": operation,
                "checks": {"positive_data_acceptance": {"expected-statuses": statuses}},
            }
            for operation, statuses in acceptable_answers().items()
        ],
    }
    if settings.max_time is not None:
        data["max-time"] = settings.max_time
    return SchemathesisConfig.from_dict(data)


def build_schema(
    contract: Contract, base_url: str, settings: FuzzSettings, creation: tuple[NameSource, Placement] | None
) -> OpenApiSchema:
    """The Schemathesis schema of a run; without `creation` (writes refused) create is left out."""
    document = contract.document
    if creation is not None:
        document = _retarget_examples(contract, *creation)
    schema = schemathesis.openapi.from_dict(document, config=schemathesis_config(base_url, settings))
    if creation is None:
        schema = cast(OpenApiSchema, schema.exclude(operation_id=CREATE_OPERATION))
    return schema


def _retarget_examples(contract: Contract, names: NameSource, placement: Placement) -> dict[str, Any]:
    """The document with create's examples named and placed like the run's trainings.

    The examples phase sends them as written (no `map_case` hook applies), and the documentation's
    example names a project and cluster of its own and a name without the run's prefix.
    """
    document = copy.deepcopy(contract.document)
    op = contract.operation(CREATE_OPERATION)
    content = document["paths"][op.path][op.method.lower()].get("requestBody", {}).get("content", {})
    for media in content.values():
        examples = [media.get("example"), *[e.get("value") for e in (media.get("examples") or {}).values()]]
        for example in examples:
            if isinstance(example, dict):
                example.update(name=names.next("example"), projectId=placement.project_id)
                example.update(clusterId=placement.cluster_id)
    return document


def install_auth(schema: OpenApiSchema, tokens: TokenSource) -> None:
    @schema.auth(refresh_interval=None)
    class Bearer:
        # No Schemathesis caching: TokenSource knows the token's expiry and refreshes before it.
        def get(self, case: Case[Any], context: Any) -> str:
            return tokens.token()

        def set(self, case: Case[Any], data: str, context: Any) -> None:
            case.headers["Authorization"] = f"Bearer {data}"


# Virtual seconds our fake's manual clock moves after each accepted create: enough for the trainings created
# a few requests earlier to be Pending, Initializing or Running when fuzzing suspends, resumes or deletes them.
SECONDS_PER_CREATE = 1


def install_passing_time(schema: OpenApiSchema, control: FakeControl) -> None:
    """On our fake's manual clock, let time pass while fuzzing, so that the trainings it creates live
    through their phases instead of all staying Creating (a real cluster's clock runs by itself)."""

    @schema.hook("after_call")
    def tick(context: HookContext, case: Case[Any], response: Response) -> None:
        if operation_id(case) == CREATE_OPERATION and 200 <= response.status_code < 300:
            control.advance(SECONDS_PER_CREATE)


def install_creation_hooks(
    schema: OpenApiSchema, names: NameSource, placement: Placement, image: str, emit: Emit
) -> None:
    """Created trainings get the run's name prefix and the target's project/cluster; their creation and
    deletion are emitted (the journal handler records them)."""

    @schema.hook("map_case")
    def place(context: HookContext, case: Case[Any]) -> Case[Any]:
        if operation_id(case) == CREATE_OPERATION and isinstance(case.body, dict):
            # Only values that are valid anyway are replaced, so a negative case stays negative.
            if isinstance(case.body.get("name"), str) and case.body["name"]:
                case.body["name"] = names.next()
            if isinstance(case.body.get("projectId"), str):
                case.body["projectId"] = placement.project_id
            if _is_uuid(case.body.get("clusterId")):
                case.body["clusterId"] = placement.cluster_id
            spec = case.body.get("spec")
            positive = case.meta is not None and case.meta.generation.mode.is_positive
            # The documents call the image mandatory in prose only; without one every create is refused
            # and the stateful phase has nothing to follow. A positive case without a spec gets one with
            # just the image (the spec is optional, so the case stays positive).
            if positive and isinstance(spec, dict) and not spec.get("image"):
                spec["image"] = image
            elif positive and spec is None:
                case.body["spec"] = {"image": image}
        return case

    @schema.hook("after_call")
    def record(context: HookContext, case: Case[Any], response: Response) -> None:
        op = operation_id(case)
        if op == CREATE_OPERATION and 200 <= response.status_code < 300:
            body = json_body(response)
            if isinstance(body, dict) and isinstance(body.get("workloadId"), str):
                name, project_id = str(body.get("name", "")), str(body.get("projectId", ""))
                emit(TrainingCreated(body["workloadId"], name, project_id))
        elif op == DELETE_OPERATION and 200 <= response.status_code < 300:
            emit(TrainingDeleted(str((case.path_parameters or {}).get("workloadId"))))


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
        result.errors.append(f"{event.label}: {event.info.title}: {event.info.message}".strip())
    elif isinstance(event, events.FatalError):
        result.errors.append(f"Schemathesis stopped: {event.exception!r}")
    elif isinstance(event, events.EngineFinished):
        source = "after run"
        for failure in event.failures:
            emit(FindingReported(finding_from_failure(failure, source, None)))
    return tally


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


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str)

"""One contract run, start to finish: target, auth, lifecycle scenarios, fuzzing, cleanup, verdict."""

from __future__ import annotations

import contextlib
import gc
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import requests
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis.specs.openapi.schemas import OpenApiSchema
from schemathesis.transport.requests import SameHostRedirectsSession

from contracts import limits
from contracts.backend.auth import FAKE_CREDENTIALS, AuthError, Credentials, TokenSource
from contracts.backend.cleanup import delete_leftovers
from contracts.backend.control import ControlError
from contracts.backend.discovery import DiscoveryError, discover
from contracts.backend.journal import Journal
from contracts.backend.safety import NameSource, new_run_id, writes_policy
from contracts.backend.target import Target
from contracts.oracle.findings import Exchange, Finding, deduplicate
from contracts.redaction import redact
from contracts.run.budget import Budget
from contracts.run.capacity import check_token, read_room
from contracts.run.checklist import checks_run
from contracts.run.context import ScenarioClient
from contracts.run.engine import BUDGET, INTERRUPTED, run_engine, session_without_environment
from contracts.run.events import (
    CleanupStarted,
    EventStream,
    ReportCollector,
    RoomRead,
    RunFinished,
    RunInterrupted,
    RunStarted,
    ScenarioSkipped,
    journal_handler,
    progress_handler,
)
from contracts.run.fuzz import build_schema, install_auth, install_creation_hooks, install_passing_time
from contracts.run.interruption import last_signal
from contracts.run.interruption import requested as interruption_requested
from contracts.run.outcome import RunOutcome
from contracts.run.probes import probes_reported_to
from contracts.run.progress import SILENT, Progress
from contracts.run.scenarios import SCENARIOS, Scenario, skipped
from contracts.run.settings import PHASES, FuzzSettings
from contracts.run.walk import Walk, run_scenarios
from contracts.specs import Contract

# A tiny public image (about 2 MB): pulled in seconds on any cluster.
DEFAULT_IMAGE = "busybox:1.36"
MINIMAL_COMPUTE: dict[str, object] = {"cpuCoreRequest": 0.1, "cpuMemoryRequest": "100M"}


class UsageError(Exception):
    """The run cannot start as asked (exit code 2)."""


@dataclass(frozen=True)
class RunOptions:
    url: str | None = None
    token: str | None = None
    credentials: Credentials | None = None
    project_id: str | None = None
    cluster_id: str | None = None
    seed: int | None = None
    max_examples: int = 20
    max_time: int | None = None
    max_duration: float | None = None
    phases: tuple[str, ...] = PHASES
    scenarios: tuple[str, ...] = tuple(s.name for s in SCENARIOS)
    workers: int = 1
    report_dir: Path = Path("reports")
    allow_writes: bool = False
    image: str = DEFAULT_IMAGE
    # The compute block of scenario trainings; None: the smallest CPU-only request (or, with
    # gpu_portion > 0, that fraction of a GPU).
    compute_request: dict[str, object] | None = None
    gpu_portion: float = 0.0
    # Seconds a scenario waits for a phase on a live backend (adapted to the dwell times seen).
    scenario_timeout: float = 300.0
    # Seconds after which an accepted action must show in the phase on a live backend.
    action_grace: float = 60.0
    poll_interval: float = 2.0
    fake_config: Path | None = None
    # The API version the fake we start serves (`--api`); a backend given by URL serves what it serves.
    api: str | None = None
    max_body: int = limits.DEFAULT_MAX_BODY
    response_timeout: float = limits.DEFAULT_RESPONSE_SECONDS
    progress: Progress = field(default_factory=lambda: SILENT, compare=False)

    def resolved_seed(self) -> int:
        return self.seed if self.seed is not None else random.SystemRandom().randrange(2**31)

    def selected_scenarios(self) -> list[Scenario]:
        return [scenario for scenario in SCENARIOS if scenario.name in self.scenarios]

    def compute(self) -> dict[str, object]:
        """What scenario trainings request: --compute, else the least a cluster can schedule (CPU only,
        a tenth of a core and 100 MB), or a fraction of a GPU with --gpu-portion."""
        if self.compute_request is not None:
            return dict(self.compute_request)
        if self.gpu_portion <= 0:
            return dict(MINIMAL_COMPUTE)
        return {"gpuDevicesRequest": 1, "gpuRequestType": "portion", "gpuPortionRequest": self.gpu_portion}

    def gpu_compute(self) -> dict[str, object]:
        """What a scenario that needs a GPU requests: the compute above when it has a GPU, else a tenth
        of one."""
        compute = self.compute()
        if any(key.startswith("gpu") and compute[key] not in (0, None, "0") for key in compute):
            return compute
        portion = self.gpu_portion if self.gpu_portion > 0 else 0.1
        return {"gpuDevicesRequest": 1, "gpuRequestType": "portion", "gpuPortionRequest": portion}


@contextlib.contextmanager
def open_target(options: RunOptions, seed: int) -> Iterator[Target]:
    target = (
        Target.connect(options.url)
        if options.url
        else Target.start_fake(seed, options.fake_config, options.api)
    )
    try:
        yield target
    finally:
        target.close()


AUTH_REFUSED = frozenset({401, 403})


# Hypothesis' tables of which characters are in which Unicode category and which survive the codecs
# Schemathesis draws text with: the same for every run on one Python, and 1.8 s of work each time.
UNICODE_CODECS = ("utf-8",)


def user_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "contracts"


def hypothesis_home(directory: Path) -> None:
    """Hypothesis keeps a cache directory; it belongs with the run's other files, not in the cwd. Its
    Unicode tables are first read from (or worked out into) the user's cache, so that a fresh report
    directory does not mean working them out again; they do not depend on the run (best effort: an
    unwritable cache only costs the time)."""
    try:
        from hypothesis.internal import charmap

        set_hypothesis_home_dir(str(user_cache() / "hypothesis"))
        charmap.charmap()
        for codec in UNICODE_CODECS:
            charmap.intervals_from_codec(codec)
    except Exception:  # Hypothesis internals moved: then it works them out itself, as before
        pass
    set_hypothesis_home_dir(str(directory))


def token_source(options: RunOptions, target: Target) -> TokenSource:
    if options.token:
        return TokenSource(target.base_url, token=options.token)
    if options.credentials:
        return TokenSource(target.base_url, credentials=options.credentials)
    if target.control is not None:
        return TokenSource(target.base_url, credentials=FAKE_CREDENTIALS)
    raise UsageError("no credentials: pass --token (or RUNAI_TOKEN), or --client-id and --client-secret")


# Young objects the collector lets pile up before a collection (Python's default is 700).
GC_YOUNG_THRESHOLD = 10_000


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Python's cyclic collector, less often, and never again over what was there before the run (the
    imported modules, the contract). Schemathesis and Hypothesis allocate so much that it ran about 1,900
    times in a default run, 1.3 s of it; 0.5 s this way. What the run sends is the same."""
    before = gc.get_threshold()
    # Unfreezing thaws everything frozen: where the process froze its heap already (a fake served in
    # this process settles its own, mockserver.app.settle_heap), that is left as it is.
    ours = gc.get_freeze_count() == 0
    if ours:
        gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        if ours:
            gc.unfreeze()


# What stops a run that has started: the backend broke a limit or answered something unusable. The run
# still cleans up and writes its reports, marked incomplete, and the CLI says why.
RUN_STOPPERS = (
    limits.LimitExceeded,
    AuthError,
    ControlError,
    DiscoveryError,
    requests.RequestException,
    httpx.HTTPError,
)


def execute(options: RunOptions, contract: Contract) -> RunOutcome:
    """One run. Interrupted (SIGINT, or SIGTERM turned into one by the CLI), it still cleans up, stops
    the fake it started and returns an outcome marked incomplete; so does one the backend stopped."""
    bounds = limits.Limits(options.max_body, options.response_timeout)
    with fewer_collections(), limits.applied(bounds):
        return _execute(options, contract, bounds)


def _execute(options: RunOptions, contract: Contract, bounds: limits.Limits) -> RunOutcome:
    seed = options.resolved_seed()
    budget = Budget(options.max_duration)
    # Until cleanup, nothing is read past the point where fuzzing must stop; cleanup has to the end.
    bounds.deadline = budget.fuzz_deadline
    stream = EventStream(progress_handler(options.progress))
    with open_target(options, seed) as target, probes_reported_to(stream.emit):
        stream.emit(RunStarted(target.describe(), seed))
        tokens = token_source(options, target)
        writable, writes = writes_policy(target.base_url, options.allow_writes)
        # Seeded names only against a fake this run started (its report is then the same byte for byte);
        # anywhere else two runs must never share names or a journal.
        run_id = new_run_id(seed if target.server is not None else None)
        settings = FuzzSettings(options.phases, options.max_examples, options.max_time, options.workers, seed)
        outcome = RunOutcome(target.describe(), contract, settings, run_id, writes)
        journal_path = options.report_dir / f"journal-{run_id}.jsonl"
        # A fake this run started dies with it, trainings and all: its journal need not survive the machine.
        journal = Journal(journal_path, run_id, target.base_url, fresh=True, durable=target.server is None)
        outcome.journal = journal.path
        stream.subscribe(journal_handler(journal))
        collector = ReportCollector(outcome)
        stream.subscribe(collector)
        hypothesis_home(options.report_dir / ".hypothesis")
        names = NameSource(run_id)
        findings: list[Finding] = []
        schema: OpenApiSchema | None = None
        try:
            # A token endpoint that fails stops the run here, once, rather than every request; a refused
            # token is said as such, before discovery would blame the project or cluster.
            check_token(target.base_url, tokens.token(), stream.emit)
            room = None
            if writable:
                outcome.placement = discover(
                    target.base_url, tokens.token(), target.control, options.project_id, options.cluster_id
                )
                room = read_room(target.base_url, tokens.token(), outcome.placement.project_id, stream.emit)
                outcome.capacity = room.lines
                stream.emit(RoomRead(room))
            creation = (names, outcome.placement) if outcome.placement else None
            schema = build_schema(contract, target.base_url, settings, creation)
            install_auth(schema, tokens)
            if outcome.placement:
                install_creation_hooks(schema, names, outcome.placement, options.image, stream.emit)
                if target.control is not None and target.manual_clock:
                    install_passing_time(schema, target.control)
                # The kind of session Schemathesis makes for a request sent without one.
                with limits.bound_session(SameHostRedirectsSession()) as session:
                    if target.server is not None:
                        session_without_environment(session)
                    client = ScenarioClient(schema, contract, tokens, stream.emit, session)
                    run_scenarios(_walk(options), target, client, names, outcome, budget, stream, room)
            else:
                for scenario in options.selected_scenarios():
                    stream.emit(ScenarioSkipped(skipped(scenario, "writes refused")))
            if options.phases and budget.spent():
                outcome.not_run.append(f"Schemathesis phases {', '.join(options.phases)}: {BUDGET}")
            elif options.phases:
                # A fake the run started is on loopback and needs nothing from the environment.
                started = target.server is not None
                fuzzed = run_engine(schema, stream.emit, budget.fuzz_deadline, ignore_environment=started)
                outcome.operation_seconds = fuzzed.operation_seconds
                findings += collector.fuzz_findings + [_run_error(error) for error in fuzzed.errors]
                if fuzzed.stopped_by == INTERRUPTED:
                    raise KeyboardInterrupt
                if fuzzed.stopped_by == BUDGET:
                    outcome.not_run.append(f"the rest of the Schemathesis phases: {BUDGET}")
        except KeyboardInterrupt:
            outcome.interrupted = True
            outcome.incomplete = f"interrupted ({last_signal()}) after {len(outcome.exchanges)} requests"
            stream.emit(RunInterrupted(outcome.incomplete))
        except limits.OutOfTime:
            # The budget ran out outside a scenario's or a phase's own checks (the token check, discovery,
            # the room): what had not run yet is reported as not run, as for any spent budget; the backend
            # did nothing wrong.
            done = {result.name for result in outcome.scenarios}
            pending = [scenario for scenario in options.selected_scenarios() if scenario.name not in done]
            for scenario in pending:
                stream.emit(ScenarioSkipped(skipped(scenario, BUDGET)))
            if pending:
                outcome.not_run.append(f"scenario(s) {', '.join(s.name for s in pending)}: {BUDGET}")
            if options.phases:
                outcome.not_run.append(f"Schemathesis phases {', '.join(options.phases)}: {BUDGET}")
        except RUN_STOPPERS as error:
            outcome.error = redact(str(error) or type(error).__name__)
            outcome.incomplete = f"stopped after {len(outcome.exchanges)} requests: {outcome.error}"
        finally:
            bounds.deadline = budget.deadline
            stream.emit(CleanupStarted())
            outcome.cleanup = delete_leftovers(journal.path, lambda base_url: tokens, durable=journal.durable)
        # Also the findings of scenarios that ran before an interrupt.
        findings += [finding for scenario in outcome.scenarios for finding in scenario.findings]
        if interruption_requested() and outcome.incomplete is None:
            outcome.interrupted = True
            outcome.incomplete = f"interrupted ({last_signal()}) after {len(outcome.exchanges)} requests"
        if outcome.incomplete is None and all(e.probe for e in outcome.exchanges) and outcome.not_run:
            outcome.incomplete = "the --max-duration budget left no time to test anything"
        findings += _auth_findings(contract, outcome.exchanges)
        if schema is not None and any(not e.probe for e in outcome.exchanges):
            outcome.checks = checks_run(schema, outcome.scenarios)
        outcome.findings = deduplicate(findings)
        stream.emit(RunFinished(outcome.conforms))
        return outcome


def _walk(options: RunOptions) -> Walk:
    return Walk(
        options.selected_scenarios(),
        options.image,
        options.compute(),
        options.gpu_compute(),
        options.scenario_timeout,
        options.poll_interval,
        options.action_grace,
    )


def _run_error(error: str) -> Finding:
    return Finding(
        check="run", operation="(run)", title="The run hit an error", message=error, source="schemathesis"
    )


def _auth_findings(contract: Contract, exchanges: list[Exchange]) -> list[Finding]:
    """A run whose every authenticated request was refused tested nothing but the login: that is a failure."""
    secured = {op.label for op in contract.secured_operations}
    answered = [e.status for e in exchanges if e.authenticated and not e.probe and e.operation in secured]
    if not answered or any(status not in AUTH_REFUSED for status in answered):
        return []
    return [
        Finding(
            check="authentication",
            operation="(run)",
            title="Every authenticated request was refused",
            message=f"all {len(answered)} authenticated requests answered 401/403: the token or credentials are "
            "not accepted, so nothing else was tested",
            source="run",
        )
    ]

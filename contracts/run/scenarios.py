"""Scripted lifecycle scenarios: the paths through a training's life that random fuzzing rarely walks.

Every request goes through Schemathesis (`Case.call` + `validate_response`), so all checks, ours and the
built-in ones, judge the scenario's answers too. Time is the fake's manual clock when there is one, the
wall clock otherwise.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests
from schemathesis.core.failures import FailureGroup
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.schemas import OpenApiSchema

from contracts import limits
from contracts.backend.auth import TokenSource
from contracts.backend.control import FakeControl
from contracts.backend.safety import NameSource
from contracts.backend.target import Placement
from contracts.oracle.checks import ACTIONS, json_body, shared_tls_context
from contracts.oracle.findings import Finding, exchange, finding_from_failure
from contracts.oracle.phases import TERMINAL, UNKNOWN, Action, reachable
from contracts.reports.curl import curl_line
from contracts.run.events import CaseAnswered, Emit, PhaseSeen, WaitingFor, ignore
from contracts.specs import (
    CREATE_OPERATION,
    DELETE_OPERATION,
    GET_OPERATION,
    RESUME_OPERATION,
    SUSPEND_OPERATION,
    VIEW_OPERATIONS,
    Contract,
)

GONE = "(404)"
VIEW_TIMEOUT = 30.0
# Where the budget (--max-duration) is spent, the scenario stops and is reported as skipped.
BUDGET_SPENT = "--max-duration budget spent"


class ScenarioFailed(Exception):
    """The backend did not do what the scenario expects next."""


class BudgetSpent(Exception):
    """The run's time budget ran out while the scenario was still waiting."""


@dataclass(frozen=True)
class Lifetime:
    """How a scenario's training lives: the command it runs, which is what decides on a real cluster (and
    on our fake, which reads `sleep N` and `exit X`; the harness uses nothing particular to the fake).

    `seconds` is how long it runs, `exit_code` how it ends. Long-lived trainings outlive every step of a
    scenario on a slow real cluster (image pulls, scheduling, suspend and resume take seconds each); the
    scenario deletes them as soon as it is done, so they never hold GPUs longer than that.
    """

    seconds: int
    exit_code: int = 0

    def spec(self) -> dict[str, Any]:
        if self.exit_code:
            return {"command": "sh", "args": f"-c 'exit {self.exit_code}'"}
        return {"command": "sleep", "args": str(self.seconds)}


# Outlives a lifecycle walked on a real cluster (minutes); deleted by the scenario.
LONG_LIVED = Lifetime(3600)
# Completes on its own, soon: for the completion and auto-deletion scenarios.
SHORT_LIVED = Lifetime(5)
# Seconds after completion at which the auto-deletion scenario's training is deleted.
AUTO_DELETION = 30
# Fails every attempt: for the restart and back-off scenario.
FAILING = Lifetime(1, exit_code=1)


@dataclass
class ScenarioResult:
    name: str
    title: str
    outcome: str = "passed"
    steps: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0


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


class ScenarioClient:
    """Sends the scenario's requests through Schemathesis and turns check failures into findings."""

    def __init__(
        self,
        schema: OpenApiSchema,
        contract: Contract,
        tokens: TokenSource,
        emit: Emit = ignore,
        session: requests.Session | None = None,
    ) -> None:
        """`session`: one connection for all the scenarios' requests (else each opens its own); cookies
        are still dropped between requests, as Schemathesis' engine does."""
        self.schema = schema
        self.contract = contract
        self.tokens = tokens
        self.emit = emit
        self.session = session
        self.result: ScenarioResult | None = None
        self.last_curl: str | None = None

    def call(self, operation_id: str, workload_id: str | None = None, body: Any = None) -> Response:
        op = self.contract.operation(operation_id)
        operation = self.schema[op.path][op.method]
        kwargs: dict[str, Any] = {"headers": {"Authorization": f"Bearer {self.tokens.token()}"}}
        if workload_id is not None:
            kwargs["path_parameters"] = {"workloadId": workload_id}
        if body is not None:
            kwargs.update(body=body, media_type="application/json")
        case = operation.Case(**kwargs)
        response = case.call(session=self.session)
        if self.session is not None:
            self.session.cookies.clear()
        request = response.request
        base_url = self.schema.config.base_url
        sent = request.body if isinstance(request.body, (bytes, str)) else None
        self.last_curl = curl_line(
            str(request.method), str(request.url), dict(request.headers), sent, base_url=base_url
        )
        self.emit(
            CaseAnswered(
                exchange(
                    op.label, str(request.url), response.status_code, dict(request.headers), response.content
                )
            )
        )
        try:
            case.validate_response(response)
        except FailureGroup as group:
            assert self.result is not None
            source = f"scenario {self.result.name}"
            self.result.findings += [
                finding_from_failure(f, source, self.last_curl) for f in group.exceptions
            ]
        return response

    def view(self, path: str, params: dict[str, str] | None = None) -> tuple[int, Any]:
        """GET one of the backend's look-ups (not in the fuzzed contract): status and JSON body."""
        base_url = str(self.schema.config.base_url)
        headers = {"Authorization": f"Bearer {self.tokens.token()}"}
        response = limits.request(
            None,
            "GET",
            base_url + path,
            params=params,
            headers=headers,
            timeout=VIEW_TIMEOUT,
            verify=shared_tls_context(),
        )
        url = str(response.request.url)
        self.last_curl = curl_line("GET", url, headers, None, base_url=base_url)
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, None

    def phase(self, workload_id: str) -> str:
        response = self.call(GET_OPERATION, workload_id)
        if response.status_code == 404:
            return GONE
        body = json_body(response)
        if response.status_code != 200 or not isinstance(body, dict):
            raise ScenarioFailed(f"GET answered {response.status_code}")
        return str(body.get("actualPhase"))


@dataclass
class ScenarioContext:
    client: ScenarioClient
    waiting: Waiting
    names: NameSource
    placement: Placement
    image: str
    compute: dict[str, Any]
    control: FakeControl | None
    steps: list[str] = field(default_factory=list)
    emit: Emit = ignore
    # Trainings the scenario created and has not deleted; what it leaves is deleted when it ends.
    live: list[str] = field(default_factory=list)
    # Actions sent since the last phase the scenario saw, per training: they tell what may come next.
    unseen: dict[str, list[Action]] = field(default_factory=dict)
    # The last phase the scenario saw of each training.
    seen: dict[str, str] = field(default_factory=dict)
    # The name each training got (with its random suffix).
    names_by_id: dict[str, str] = field(default_factory=dict)

    def step(self, text: str) -> None:
        self.steps.append(text)

    def create(self, purpose: str, lifetime: Lifetime, extra: dict[str, Any] | None = None) -> str:
        spec = {
            "image": self.image,
            **lifetime.spec(),
            "compute": self.compute,
            **(extra or {}),
        }
        body = {
            "name": self.names.next(purpose),
            "useGivenNameAsPrefix": True,
            "projectId": self.placement.project_id,
            "clusterId": self.placement.cluster_id,
            "spec": spec,
        }
        response = self.client.call(CREATE_OPERATION, body=body)
        training = json_body(response)
        if (
            not 200 <= response.status_code < 300
            or not isinstance(training, dict)
            or "workloadId" not in training
        ):
            raise ScenarioFailed(f"create answered {response.status_code}: {str(training)[:300]}")
        self.step(
            f"create ({spec['command']} {spec['args']}) -> {response.status_code}, {training.get('actualPhase')}"
        )
        workload_id = str(training["workloadId"])
        self.live.append(workload_id)
        self.names_by_id[workload_id] = str(training.get("name", ""))
        return workload_id

    def act(self, operation_id: str, workload_id: str) -> None:
        response = self.client.call(operation_id, workload_id)
        expected = self.client.contract.operation(operation_id).success_status
        self.step(f"{operation_id.split('_')[0]} -> {response.status_code}")
        if response.status_code != expected:
            raise ScenarioFailed(f"{operation_id} answered {response.status_code}, expected {expected}")
        action = ACTIONS.get(operation_id)
        if action is not None:
            self.unseen.setdefault(workload_id, []).append(action)
        if action is Action.DELETE and workload_id in self.live:
            self.live.remove(workload_id)

    def reach(self, workload_id: str, *wanted: str) -> str:
        what = f"waiting for {'/'.join(wanted)}"
        self.emit(WaitingFor(what))
        actions = tuple(self.unseen.pop(workload_id, []))
        phase = self.waiting.until(
            lambda: self.client.phase(workload_id),
            frozenset(wanted),
            what,
            actions,
            self.seen.get(workload_id),
        )
        self.seen[workload_id] = phase
        self.step(f"reached {phase}")
        return phase

    def release(self) -> None:
        """Delete what the scenario still holds (it stopped early): nothing keeps GPUs after it."""
        for workload_id in list(self.live):
            try:
                self.act(DELETE_OPERATION, workload_id)
            except ScenarioFailed as failed:
                self.step(f"could not delete {workload_id}: {failed}")
        self.live.clear()


def lifecycle(ctx: ScenarioContext) -> None:
    """create -> Running -> suspend -> Stopped (GPUs released) -> resume -> Running -> delete -> 404."""
    wid = ctx.create("life", LONG_LIVED)
    ctx.reach(wid, "Running")
    held = ctx.control.nodes_holding(wid) if ctx.control else []
    ctx.act(SUSPEND_OPERATION, wid)
    ctx.reach(wid, "Stopped")
    if ctx.control is not None:
        still = ctx.control.nodes_holding(wid)
        if not held:
            ctx.step("GPU release not judged: the snapshot showed no device held while Running")
        elif still:
            raise ScenarioFailed(f"Stopped, but the snapshot still shows devices held on {', '.join(still)}")
        else:
            ctx.step(f"devices released ({len(held)} node(s) held them while Running)")
    ctx.act(RESUME_OPERATION, wid)
    ctx.reach(wid, "Running")
    ctx.act(DELETE_OPERATION, wid)
    ctx.reach(wid, GONE)


def backoff(ctx: ScenarioContext) -> None:
    """A container that always fails is restarted backoffLimit times, then the training is Failed."""
    wid = ctx.create("fail", FAILING, extra={"backoffLimit": 1})
    ctx.reach(wid, "Failed")
    ctx.act(DELETE_OPERATION, wid)
    ctx.reach(wid, GONE)


def auto_deletion(ctx: ScenarioContext) -> None:
    """A finished training disappears autoDeletionTimeAfterCompletionSeconds after it Completed."""
    # Long enough for a poll backed off to its interval to see Completed before the training is gone.
    wid = ctx.create("auto", SHORT_LIVED, extra={"autoDeletionTimeAfterCompletionSeconds": AUTO_DELETION})
    ctx.reach(wid, "Completed")
    ctx.reach(wid, GONE)
    ctx.live.remove(wid)


def preemption(ctx: ScenarioContext) -> None:
    """A preempted training goes back through Pending (forced through the fake's control API)."""
    assert ctx.control is not None
    wid = ctx.create("evict", LONG_LIVED)
    ctx.reach(wid, "Running")
    ctx.control.force_outcome(wid, "Preempted")
    ctx.step("preempted through the control API")
    ctx.reach(wid, "Terminating", "Pending", "Initializing")
    ctx.reach(wid, "Running")
    ctx.act(DELETE_OPERATION, wid)
    ctx.reach(wid, GONE)


def _actions_on(ctx: ScenarioContext, wid: str, phase: str) -> None:
    """suspend and resume (each followed by a read the checks judge), then delete until gone."""
    for operation in (SUSPEND_OPERATION, RESUME_OPERATION):
        ctx.act(operation, wid)
        ctx.step(f"read in {phase} after {operation.split('_')[0]}: {ctx.client.phase(wid)}")
    ctx.act(DELETE_OPERATION, wid)
    ctx.reach(wid, GONE)


def every_phase(ctx: ScenarioContext) -> None:
    """suspend, resume and delete answer as documented, and take effect, on trainings in every phase."""
    wid = ctx.create("fresh", LONG_LIVED)
    _actions_on(ctx, wid, "its first phase")
    wid = ctx.create("running", LONG_LIVED)
    _actions_on(ctx, wid, ctx.reach(wid, "Running"))
    wid = ctx.create("stopped", LONG_LIVED)
    ctx.reach(wid, "Running")
    ctx.act(SUSPEND_OPERATION, wid)
    _actions_on(ctx, wid, ctx.reach(wid, "Stopped"))
    wid = ctx.create("done", SHORT_LIVED)
    _actions_on(ctx, wid, ctx.reach(wid, "Completed"))
    wid = ctx.create("failed", FAILING, extra={"backoffLimit": 1})
    _actions_on(ctx, wid, ctx.reach(wid, "Failed"))


def _listed(ctx: ScenarioContext, name: str, deleted: bool) -> tuple[list[str], int]:
    """Ids the workloads list shows under `name`, and what the count says, with `deleted` as given."""
    query = {"filterBy": f"name=={name}", **({"deleted": "true"} if deleted else {})}
    status, page = ctx.client.view("/api/v1/workloads", query)
    if status != 200 or not isinstance(page, dict) or not isinstance(page.get("workloads"), list):
        raise ScenarioFailed(f"GET /api/v1/workloads answered {status}: {str(page)[:200]}")
    ids = [str(item.get("id")) for item in page["workloads"] if isinstance(item, dict)]
    status, counted = ctx.client.view("/api/v1/workloads/count", query)
    if status != 200 or not isinstance(counted, dict) or not isinstance(counted.get("count"), int):
        raise ScenarioFailed(f"GET /api/v1/workloads/count answered {status}: {str(counted)[:200]}")
    if counted["count"] != len(ids):
        raise ScenarioFailed(
            f"GET /api/v1/workloads/count says {counted['count']} for {query}, the list has {len(ids)}"
        )
    return ids, counted["count"]


def views(ctx: ScenarioContext) -> None:
    """The workloads views agree with the training: its phase, list and count, deleted only under deleted=true."""
    wid = ctx.create("views", LONG_LIVED)
    ctx.reach(wid, "Running")
    before = ctx.client.phase(wid)
    status, workload = ctx.client.view(f"/api/v1/workloads/{wid}")
    after = ctx.client.phase(wid)
    shown = workload.get("phase") if isinstance(workload, dict) else None
    if status != 200 or shown not in (before, after):
        raise ScenarioFailed(
            f"GET /api/v1/workloads/{{id}} answered {status} with phase {shown!r}; the training's "
            f"actualPhase was {before} and then {after}"
        )
    ctx.step(f"workload phase {shown} = actualPhase")
    name = ctx.names_by_id[wid]
    ids, count = _listed(ctx, name, deleted=False)
    if wid not in ids:
        raise ScenarioFailed(f"GET /api/v1/workloads?filterBy=name=={name} does not list the training")
    ctx.step(f"listed by name, count {count} = list length")
    ctx.act(DELETE_OPERATION, wid)
    ctx.reach(wid, GONE)
    if wid in _listed(ctx, name, deleted=False)[0]:
        raise ScenarioFailed("a deleted training is still listed without deleted=true")
    if wid not in _listed(ctx, name, deleted=True)[0]:
        raise ScenarioFailed("a deleted training is not listed under deleted=true")
    ctx.step("deleted: listed only under deleted=true")


@dataclass(frozen=True)
class Scenario:
    name: str
    run: Callable[[ScenarioContext], None]
    needs_control: bool = False
    # Operations the backend's contract must document besides the trainings API.
    needs_operations: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return (self.run.__doc__ or self.name).strip().splitlines()[0]


SCENARIOS = (
    Scenario("lifecycle", lifecycle),
    Scenario("backoff", backoff),
    Scenario("auto-deletion", auto_deletion),
    Scenario("every-phase", every_phase),
    Scenario("views", views, needs_operations=VIEW_OPERATIONS),
    Scenario("preemption", preemption, needs_control=True),
)


def skipped(scenario: Scenario, reason: str) -> ScenarioResult:
    return ScenarioResult(scenario.name, scenario.title, "skipped", [f"skipped: {reason}"])


def run_scenario(scenario: Scenario, ctx: ScenarioContext) -> ScenarioResult:
    result = ScenarioResult(scenario.name, scenario.title, steps=ctx.steps)
    ctx.client.result = result
    if scenario.needs_control and ctx.control is None:
        result.outcome = "skipped"
        ctx.step("skipped: needs the fake's control API to force the outcome")
        return result
    missing = [op for op in scenario.needs_operations if op not in ctx.client.contract.offered]
    if missing:
        result.outcome = "skipped"
        ctx.step(f"skipped: the contract does not document {', '.join(missing)}")
        return result
    started = time.monotonic()
    try:
        scenario.run(ctx)
    except limits.OutOfTime as spent:
        result.outcome = "skipped"
        ctx.step(f"stopped: {spent}")
    except (ScenarioFailed, limits.LimitExceeded) as failed:
        result.findings.append(
            Finding(
                check=f"scenario:{scenario.name}",
                operation="(scenario)",
                title=f"Lifecycle scenario '{scenario.name}' failed",
                message=str(failed),
                source=f"scenario {scenario.name}",
                curl=ctx.client.last_curl,
            )
        )
        ctx.step(f"failed: {failed}")
    except BudgetSpent as spent:
        result.outcome = "skipped"
        ctx.step(f"stopped: {spent}")
    finally:
        ctx.release()
        result.seconds = time.monotonic() - started
    if result.findings:
        result.outcome = "failed"
    return result

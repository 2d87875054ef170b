"""Scripted lifecycle scenarios: the paths through a training's life that random fuzzing rarely walks.

Every request goes through Schemathesis (`Case.call` + `validate_response`), so all checks, ours and the
built-in ones, judge the scenario's answers too. Time is the fake's manual clock when there is one, the
wall clock otherwise.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from schemathesis.core.failures import FailureGroup
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.schemas import OpenApiSchema

from contracts.auth import TokenSource
from contracts.checks import json_body
from contracts.control import FakeControl
from contracts.curl import curl_line
from contracts.findings import Exchange, Finding, exchange, finding_from_failure
from contracts.safety import NameSource
from contracts.specs import (
    CREATE_OPERATION,
    DELETE_OPERATION,
    GET_OPERATION,
    RESUME_OPERATION,
    SUSPEND_OPERATION,
    Contract,
)
from contracts.target import Placement

# Per-training behaviour of our fake; a real cluster treats them as plain annotations. There the command
# decides how the container ends.
DURATION_ANNOTATION = "mock.runai/duration"
OUTCOME_ANNOTATION = "mock.runai/outcome"
RUN_SECONDS = 3
GONE = "(404)"


class ScenarioFailed(Exception):
    """The backend did not do what the scenario expects next."""


@dataclass
class ScenarioResult:
    name: str
    title: str
    outcome: str = "passed"
    steps: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


class Waiting(Protocol):
    def until(self, read: Callable[[], str], wanted: set[str], what: str) -> str: ...


@dataclass
class VirtualTime:
    """Advances the fake's manual clock, reading after each step: one second at a time for the first
    minute (the default stages take seconds, so no phase is missed), then ten at a time up to the limit."""

    control: FakeControl
    limit_seconds: int = 600
    fine_seconds: int = 60

    def until(self, read: Callable[[], str], wanted: set[str], what: str) -> str:
        waited = 0
        phase = read()
        while phase not in wanted:
            if waited >= self.limit_seconds:
                raise ScenarioFailed(f"{what}: still {phase} after {waited} virtual seconds")
            step = 1 if waited < self.fine_seconds else 10
            self.control.advance(step)
            waited += step
            phase = read()
        return phase


@dataclass
class WallTime:
    """Polls a live backend until the phase shows up or the timeout passes, reporting progress."""

    timeout: float
    interval: float
    progress: Callable[[str], None]

    def until(self, read: Callable[[], str], wanted: set[str], what: str) -> str:
        started = time.monotonic()
        while True:
            phase = read()
            waited = time.monotonic() - started
            if phase in wanted:
                return phase
            if waited >= self.timeout:
                raise ScenarioFailed(f"{what}: still {phase} after {self.timeout:.0f} s")
            self.progress(f"  {what}: {phase} after {waited:.0f} s")
            time.sleep(self.interval)


class ScenarioClient:
    """Sends the scenario's requests through Schemathesis and turns check failures into findings."""

    def __init__(self, schema: OpenApiSchema, contract: Contract, tokens: TokenSource) -> None:
        self.schema = schema
        self.contract = contract
        self.tokens = tokens
        self.exchanges: list[Exchange] = []
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
        response = case.call()
        request = response.request
        base_url = self.schema.config.base_url
        self.last_curl = curl_line(
            str(request.method), str(request.url), dict(request.headers), request.body, base_url=base_url
        )
        self.exchanges.append(
            exchange(
                op.label, str(request.url), response.status_code, dict(request.headers), response.content
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

    def step(self, text: str) -> None:
        self.steps.append(text)

    def create(self, purpose: str, *, outcome: str = "Completed", extra: dict[str, Any] | None = None) -> str:
        exits = "0" if outcome == "Completed" else "1"
        spec = {
            "image": self.image,
            "command": "sh",
            "args": f"-c 'sleep {RUN_SECONDS}; exit {exits}'",
            "compute": self.compute,
            "annotations": [
                {"name": DURATION_ANNOTATION, "value": str(RUN_SECONDS)},
                {"name": OUTCOME_ANNOTATION, "value": outcome},
            ],
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
        self.step(f"create -> {response.status_code}, {training.get('actualPhase')}")
        return str(training["workloadId"])

    def act(self, operation_id: str, workload_id: str) -> None:
        response = self.client.call(operation_id, workload_id)
        expected = self.client.contract.operation(operation_id).success_status
        self.step(f"{operation_id.split('_')[0]} -> {response.status_code}")
        if response.status_code != expected:
            raise ScenarioFailed(f"{operation_id} answered {response.status_code}, expected {expected}")

    def reach(self, workload_id: str, *wanted: str) -> str:
        phase = self.waiting.until(
            lambda: self.client.phase(workload_id), set(wanted), f"waiting for {'/'.join(wanted)}"
        )
        self.step(f"reached {phase}")
        return phase


def lifecycle(ctx: ScenarioContext) -> None:
    """create -> Running -> suspend -> Stopped (GPUs released) -> resume -> Running -> delete -> 404."""
    wid = ctx.create("life")
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
    wid = ctx.create("fail", outcome="Failed", extra={"backoffLimit": 1})
    ctx.reach(wid, "Failed")
    ctx.act(DELETE_OPERATION, wid)
    ctx.reach(wid, GONE)


def auto_deletion(ctx: ScenarioContext) -> None:
    """A finished training disappears autoDeletionTimeAfterCompletionSeconds after it Completed."""
    wid = ctx.create("auto", extra={"autoDeletionTimeAfterCompletionSeconds": 5})
    ctx.reach(wid, "Completed")
    ctx.reach(wid, GONE)


def preemption(ctx: ScenarioContext) -> None:
    """A preempted training goes back through Pending (forced through the fake's control API)."""
    assert ctx.control is not None
    wid = ctx.create("evict")
    ctx.reach(wid, "Running")
    ctx.control.force_outcome(wid, "Preempted")
    ctx.step("preempted through the control API")
    ctx.reach(wid, "Pending", "Initializing")
    ctx.reach(wid, "Running")
    ctx.act(DELETE_OPERATION, wid)
    ctx.reach(wid, GONE)


@dataclass(frozen=True)
class Scenario:
    name: str
    run: Callable[[ScenarioContext], None]
    needs_control: bool = False

    @property
    def title(self) -> str:
        return (self.run.__doc__ or self.name).strip().splitlines()[0]


SCENARIOS = (
    Scenario("lifecycle", lifecycle),
    Scenario("backoff", backoff),
    Scenario("auto-deletion", auto_deletion),
    Scenario("preemption", preemption, needs_control=True),
)


def run_scenario(scenario: Scenario, ctx: ScenarioContext) -> ScenarioResult:
    result = ScenarioResult(scenario.name, scenario.title, steps=ctx.steps)
    ctx.client.result = result
    if scenario.needs_control and ctx.control is None:
        result.outcome = "skipped"
        ctx.step("skipped: needs the fake's control API to force the outcome")
        return result
    try:
        scenario.run(ctx)
    except ScenarioFailed as failed:
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
    if result.findings:
        result.outcome = "failed"
    return result

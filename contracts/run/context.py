"""What a scenario works with: a client that sends its requests through Schemathesis (so every check
judges them), the trainings it creates and how they live, and what it has seen of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests
from schemathesis.core.failures import FailureGroup
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.schemas import OpenApiSchema

from contracts import limits
from contracts.backend.auth import TokenSource
from contracts.backend.control import FakeControl
from contracts.backend.safety import NameSource
from contracts.backend.target import Placement
from contracts.oracle.checks import ACTIONS, json_body
from contracts.oracle.findings import exchange, finding_from_failure
from contracts.oracle.phases import Action
from contracts.reports.curl import curl_line
from contracts.run.capacity import hold_reason
from contracts.run.events import CaseAnswered, Emit, WaitingFor, ignore
from contracts.run.outcome import Room, ScenarioResult
from contracts.run.probes import shared_tls_context
from contracts.run.waiting import GONE, ScenarioFailed, Waiting
from contracts.specs import KINDS, TRAININGS, Contract, Kind

VIEW_TIMEOUT = 30.0
# What each kind's operations do to a workload's phases (the oracle's table is the same for every kind).
KIND_ACTIONS: dict[str, Action] = {
    **{kind.suspend: Action.SUSPEND for kind in KINDS if kind.suspend},
    **{kind.resume: Action.RESUME for kind in KINDS if kind.resume},
    **{kind.delete: Action.DELETE for kind in KINDS},
}
WORKLOAD_VIEW = "GET /api/v1/workloads/{workloadId}"


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

    def view(
        self, path: str, params: dict[str, str] | None = None, label: str | None = None, probe: bool = False
    ) -> tuple[int, Any]:
        """GET one of the backend's look-ups (not in the fuzzed contract): status and JSON body. Counted
        in the reports under `label` (the path template; default: the path)."""
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
        answered = exchange(label or f"GET {path}", url, response.status_code, headers, b"", probe=probe)
        self.emit(CaseAnswered(answered))
        self.last_curl = curl_line("GET", url, headers, None, base_url=base_url)
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, None

    def phase(self, workload_id: str, kind: Kind = TRAININGS) -> str:
        response = self.call(kind.get, workload_id)
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
    # What a training that needs a GPU requests, and what the backend said of the project's room.
    gpu_compute: dict[str, Any] = field(default_factory=dict)
    room: Room | None = None
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
    # The kind of each workload the scenario created (trainings unless said).
    kinds: dict[str, Kind] = field(default_factory=dict)
    # Seconds a training the cluster holds (with a reason) is waited for; None: the wait's own limit.
    hold_patience: float | None = None
    # The same, for a training that needs a GPU (a scenario that needs one is skipped, not inconclusive).
    gpu_patience: float = 30.0
    # Why scenarios are not even tried: an earlier one's smallest training found no room.
    no_room: str | None = None

    def step(self, text: str) -> None:
        self.steps.append(text)

    def create(
        self,
        purpose: str,
        lifetime: Lifetime,
        extra: dict[str, Any] | None = None,
        compute: dict[str, Any] | None = None,
        kind: Kind = TRAININGS,
    ) -> str:
        spec = {
            "image": self.image,
            **lifetime.spec(),
            "compute": compute or self.compute,
            **(extra or {}),
        }
        body = {
            "name": self.names.next(purpose),
            "useGivenNameAsPrefix": True,
            "projectId": self.placement.project_id,
            "clusterId": self.placement.cluster_id,
            "spec": spec,
        }
        response = self.client.call(kind.create, body=body)
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
        self.kinds[workload_id] = kind
        return workload_id

    def act(self, operation_id: str, workload_id: str) -> None:
        response = self.client.call(operation_id, workload_id)
        expected = self.client.contract.operation(operation_id).success_status
        self.step(f"{operation_id.split('_')[0]} -> {response.status_code}")
        if response.status_code != expected:
            raise ScenarioFailed(f"{operation_id} answered {response.status_code}, expected {expected}")
        action = ACTIONS.get(operation_id) or KIND_ACTIONS.get(operation_id)
        if action is not None:
            self.unseen.setdefault(workload_id, []).append(action)
        if action is Action.DELETE and workload_id in self.live:
            self.live.remove(workload_id)

    def reach(self, workload_id: str, *wanted: str) -> str:
        what = f"waiting for {'/'.join(wanted)}"
        self.emit(WaitingFor(what))
        actions = tuple(self.unseen.pop(workload_id, []))
        phase = self.waiting.until(
            lambda: self.client.phase(workload_id, self.kinds.get(workload_id, TRAININGS)),
            frozenset(wanted),
            what,
            actions,
            self.seen.get(workload_id),
            why=lambda: self.hold_reason(workload_id),
            patience=self.hold_patience,
        )
        self.seen[workload_id] = phase
        self.step(f"reached {phase}")
        return phase

    def hold_reason(self, workload_id: str) -> str | None:
        """The backend's reason for holding the training (the workloads API), if it serves one."""
        status, workload = self.client.view(
            f"/api/v1/workloads/{workload_id}", label=WORKLOAD_VIEW, probe=True
        )
        return hold_reason(workload) if status == 200 else None

    def release(self) -> None:
        """Delete what the scenario still holds (it stopped early): nothing keeps GPUs after it."""
        for workload_id in list(self.live):
            try:
                self.act(self.kinds.get(workload_id, TRAININGS).delete, workload_id)
            except ScenarioFailed as failed:
                self.step(f"could not delete {workload_id}: {failed}")
        self.live.clear()

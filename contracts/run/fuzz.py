"""Schemathesis wiring: the engine's configuration, the schema it fuzzes, and the hooks that place, name,
authenticate and journal what it creates (running it is `engine`)."""

from __future__ import annotations

import copy
import sys
import uuid
from pathlib import Path
from typing import Any, cast

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

import schemathesis
from schemathesis import Case
from schemathesis.config import SchemathesisConfig
from schemathesis.core.transport import Response
from schemathesis.generation.meta import TestPhase
from schemathesis.hooks import HookContext
from schemathesis.specs.openapi.schemas import OpenApiSchema

from contracts.backend.auth import TokenSource
from contracts.backend.control import FakeControl
from contracts.backend.safety import NameSource
from contracts.backend.target import Placement
from contracts.oracle.checks import ENABLE, json_body, operation_id
from contracts.oracle.undeclared import ENABLE_UNDECLARED
from contracts.run.events import Emit, WorkloadCreated, WorkloadDeleted
from contracts.run.probes import ENABLE_PROBES
from contracts.run.settings import PHASES, FuzzSettings
from contracts.specs import CREATE_OPERATIONS, DELETE_OPERATIONS, FUZZED_OPERATIONS, Contract

# Replaced by our own checks. use_after_free by TrainingLifecycle: a deleted training may be read while it
# is Deleting, which the built-in takes for a use-after-free; ours demands Deleting then 404 instead.
# ignored_auth by UnauthenticatedRejected: the built-in sends two requests without valid credentials
# after every 2xx answer (two per poll of a waiting scenario, hundreds per run, none of them counted);
# ours probes each operation once per run, whatever it answered, and the reports count the probes.
# not_a_server_error and unsupported_method are replaced by UndeclaredMethodAnswer (ENABLE_UNDECLARED):
# a method the contract leaves out may be answered 501 "not implemented" (contracts/oracle/undeclared.py).
DISABLED_CHECKS = ("use_after_free", "ignored_auth")
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
        "checks": {
            **ENABLE,
            **ENABLE_PROBES,
            **ENABLE_UNDECLARED,
            **{name: {"enabled": False} for name in DISABLED_CHECKS},
        },
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
    """The Schemathesis schema of a run; without `creation` (writes refused) every kind's create is left
    out."""
    document = contract.document
    if creation is not None:
        document = _retarget_examples(contract, *creation)
    schema = schemathesis.openapi.from_dict(document, config=schemathesis_config(base_url, settings))
    if creation is None:
        creates = [op for op in CREATE_OPERATIONS if op in contract.operations]
        schema = cast(OpenApiSchema, schema.exclude(operation_id=creates))
    return schema


def _retarget_examples(contract: Contract, names: NameSource, placement: Placement) -> dict[str, Any]:
    """The document with every create's examples named and placed like the run's workloads, and as small.

    The examples phase sends them as written (no `map_case` hook applies), and the documentation's
    example names a project and cluster of its own and a name without the run's prefix.
    """
    document = copy.deepcopy(contract.document)
    for create in CREATE_OPERATIONS:
        if create not in contract.operations:
            continue
        op = contract.operation(create)
        content = document["paths"][op.path][op.method.lower()].get("requestBody", {}).get("content", {})
        for media in content.values():
            examples = [
                media.get("example"),
                *[e.get("value") for e in (media.get("examples") or {}).values()],
            ]
            for example in examples:
                if isinstance(example, dict):
                    example.update(name=names.next("example"), projectId=placement.project_id)
                    example.update(clusterId=placement.cluster_id)
                    shrink(example.get("spec"))
    return document


# Replica counts a created workload may ask for: a distributed gang of a master and one worker, an
# inference of at most two replicas. Enough to exercise gangs and autoscaling bounds; small enough that a
# run on a real cluster never takes more than a sliver of it.
MAX_REPLICAS = 2
REPLICA_FIELDS = ("numWorkers", "minReplicas", "maxReplicas", "parallelism", "completions")


def shrink(spec: Any) -> None:
    """Make a valid workload spec tiny, keeping it valid: no GPU requests (they are optional everywhere)
    and at most MAX_REPLICAS of anything (clamping keeps min <= max). The distributed master's own spec
    is shrunk the same way. Values that are not of the valid type are left alone, so that a negative case
    stays negative."""
    if not isinstance(spec, dict):
        return
    for field in REPLICA_FIELDS:
        value = spec.get(field)
        if isinstance(value, int) and not isinstance(value, bool) and value > MAX_REPLICAS:
            spec[field] = MAX_REPLICAS
    compute = spec.get("compute")
    if isinstance(compute, dict):
        for key in [key for key in compute if key.startswith("gpu")]:
            del compute[key]
    autoscaling = spec.get("autoscaling")
    if isinstance(autoscaling, dict):
        shrink(autoscaling)
    shrink(spec.get("masterSpec"))


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

# The phases whose later requests act on workloads created earlier (their ids come from earlier answers).
# The examples and coverage phases send fixed cases, whose ids are generated, never taken from a create:
# time passing there changes no answer they check, and each advance schedules every workload created so
# far (thousands, in the coverage phase).
PHASES_THAT_FOLLOW_CREATES = frozenset({TestPhase.FUZZING, TestPhase.STATEFUL})


def install_passing_time(schema: OpenApiSchema, control: FakeControl) -> None:
    """On our fake's manual clock, let time pass while fuzzing, so that the trainings it creates live
    through their phases instead of all staying Creating (a real cluster's clock runs by itself)."""

    @schema.hook("after_call")
    def tick(context: HookContext, case: Case[Any], response: Response) -> None:
        if (
            operation_id(case) in CREATE_OPERATIONS
            and 200 <= response.status_code < 300
            and (case.meta is None or case.meta.phase.name in PHASES_THAT_FOLLOW_CREATES)
        ):
            control.advance(SECONDS_PER_CREATE)


def install_creation_hooks(
    schema: OpenApiSchema, names: NameSource, placement: Placement, image: str, emit: Emit
) -> None:
    """Created workloads of every kind get the run's name prefix and the target's project/cluster, and
    positive ones are made tiny (`shrink`); their creation and deletion are emitted with their kind (the
    journal handler records them, and cleanup deletes through the kind's path)."""

    @schema.hook("map_case")
    def place(context: HookContext, case: Case[Any]) -> Case[Any]:
        if operation_id(case) in CREATE_OPERATIONS and isinstance(case.body, dict):
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
            if positive:
                shrink(case.body.get("spec"))
        return case

    @schema.hook("after_call")
    def record(context: HookContext, case: Case[Any], response: Response) -> None:
        op = operation_id(case)
        if op in CREATE_OPERATIONS and 200 <= response.status_code < 300:
            body = json_body(response)
            if isinstance(body, dict) and isinstance(body.get("workloadId"), str):
                name, project_id = str(body.get("name", "")), str(body.get("projectId", ""))
                kind = CREATE_OPERATIONS[op].collection
                emit(WorkloadCreated(body["workloadId"], name, project_id, kind))
        elif op in DELETE_OPERATIONS and 200 <= response.status_code < 300:
            workload_id = str((case.path_parameters or {}).get("workloadId"))
            emit(WorkloadDeleted(workload_id, DELETE_OPERATIONS[op].collection))


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str)

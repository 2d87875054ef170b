"""A scenario file read into typed steps: the JSON Schema checks its shape, this module its meaning.

Every problem is a `ScenarioError` naming the file and the step, so a typo reads as one line rather than
as a traceback from deep in the runner.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

SCHEMA_FILE = Path(__file__).with_name("scenario.schema.json")
# libyaml's safe loader when PyYAML was built with it: ten times faster than the pure-Python one.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ScenarioError(Exception):
    """The scenario cannot be read or cannot be run as written (not a failed expectation)."""


class Action(str, Enum):
    """What a step does; the values are the scenario file's keys."""

    SUBMIT = "submit"
    SUSPEND = "suspend"
    RESUME = "resume"
    DELETE = "delete"
    OUTCOME = "outcome"
    LOAD = "load"
    REMOVE_LOAD = "removeLoad"
    SET_QUOTA = "setQuota"
    NODE_DOWN = "nodeDown"
    NODE_UP = "nodeUp"
    ADD_NODE = "addNode"
    REMOVE_NODE = "removeNode"
    GPU_UNHEALTHY = "gpuUnhealthy"
    GPU_HEALTHY = "gpuHealthy"
    DISCONNECT = "disconnect"
    RECONNECT = "reconnect"
    EXPECT = "expect"


@dataclass(frozen=True)
class QuotaExpectation:
    project: str
    node_pool: str | None
    allocated: float | None
    deserved: float | None
    fair_share: float | None


@dataclass(frozen=True)
class Expectation:
    workload: str | None = None
    phase: tuple[str, ...] = ()
    phases: tuple[str, ...] = ()
    nodes: tuple[str, ...] | None = None
    running_pods: int | None = None
    pending_reason: str | None = None
    preempted: bool | None = None
    quota: QuotaExpectation | None = None
    within: float = 0.0


@dataclass(frozen=True)
class Step:
    at: float
    name: str
    action: Action
    # The action's argument as the file wrote it (a name, or a mapping); `expect` is typed.
    argument: Any
    expect: Expectation | None = None
    line: int = 0  # its position in the file's steps, from 1


@dataclass(frozen=True)
class Scenario:
    name: str
    source: str
    steps: tuple[Step, ...]
    description: str = ""
    api: str | None = None
    seed: int = 0
    cluster: str | dict[str, Any] | None = None
    until: float = 0.0
    # Nodes of the cluster that join only when an `addNode` step adds them.
    spare_nodes: tuple[str, ...] = ()
    base: Path = field(default_factory=Path.cwd)  # where a cluster file named relatively is looked for


@functools.cache
def _schema() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def load_scenario(path: Path) -> Scenario:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ScenarioError(f"{path}: cannot be read as YAML: {error}") from error
    return scenario_from_dict(data, str(path), path.parent)


def scenario_from_dict(data: Any, source: str, base: Path | None = None) -> Scenario:
    errors = sorted(_schema().iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(top level)"
        raise ScenarioError(f"{source}: {where}: {first.message}")
    steps = tuple(_step(item, index + 1, source) for index, item in enumerate(data["steps"]))
    return Scenario(
        name=data["name"],
        source=source,
        steps=tuple(sorted(steps, key=lambda s: s.at)),  # stable: steps at one time keep their order
        description=data.get("description", ""),
        api=data.get("api"),
        seed=data.get("seed", 0),
        cluster=data.get("cluster"),
        until=float(data.get("until", 0.0)),
        spare_nodes=tuple(data.get("spareNodes") or ()),
        base=base or Path.cwd(),
    )


def _step(item: dict[str, Any], line: int, source: str) -> Step:
    actions = [a for a in Action if a.value in item]
    if len(actions) != 1:
        found = ", ".join(a.value for a in actions) or "none"
        raise ScenarioError(f"{source}: steps/{line - 1}: a step does exactly one thing (found: {found})")
    action = actions[0]
    argument = item[action.value]
    at = float(item["at"])
    name = item.get("name") or f"{action.value} {_short(argument)} at {at:g}s"
    expect = _expectation(argument, f"{source}: steps/{line - 1}") if action is Action.EXPECT else None
    return Step(at=at, name=name, action=action, argument=argument, expect=expect, line=line)


def _short(argument: Any) -> str:
    if isinstance(argument, dict):
        for key in ("as", "workload", "node", "project"):
            if key in argument:
                return str(argument[key])
        body = argument.get("body")
        return str(body.get("name", "")) if isinstance(body, dict) else ""
    return str(argument)


def _expectation(data: dict[str, Any], where: str) -> Expectation:
    about_workload = {"phase", "phases", "nodes", "runningPods", "pendingReason", "preempted"} & set(data)
    if about_workload and "workload" not in data:
        raise ScenarioError(f"{where}: {', '.join(sorted(about_workload))} needs a workload")
    if set(data) <= {"workload", "within"}:
        raise ScenarioError(f"{where}: the expectation checks nothing")
    phase = data.get("phase")
    quota = data.get("quota")
    return Expectation(
        workload=data.get("workload"),
        phase=(phase,) if isinstance(phase, str) else tuple(phase or ()),
        phases=tuple(data.get("phases") or ()),
        nodes=tuple(data["nodes"]) if "nodes" in data else None,
        running_pods=data.get("runningPods"),
        pending_reason=data.get("pendingReason"),
        preempted=data.get("preempted"),
        quota=None
        if quota is None
        else QuotaExpectation(
            project=str(quota["project"]),
            node_pool=quota.get("nodePool"),
            allocated=quota.get("allocated"),
            deserved=quota.get("deserved"),
            fair_share=quota.get("fairShare"),
        ),
        within=float(data.get("within", 0.0)),
    )

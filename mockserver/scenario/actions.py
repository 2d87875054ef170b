"""A scenario step's action on the cluster: submissions read by the API's own parsing, client actions,
load, and chaos (`cluster/chaos.py`).

A submission names its kind; the kind's description is found among `cluster/kinds` by its name and its
body read by `parsing/<kind>.py`'s `parse_<kind>`, the function the API's create handler calls — so a
kind added to the API is a kind scenarios can submit, with nothing to change here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mockserver.cluster import chaos, kinds
from mockserver.cluster.cluster import FakeCluster
from mockserver.cluster.kinds import WorkloadKind
from mockserver.cluster.resources import PodRequest
from mockserver.parsing.request import ParsedRequest
from mockserver.scenario.model import Action, ScenarioError, Step
from mockserver.versions import ApiVersion

Parser = Callable[[dict[str, Any], ApiVersion], ParsedRequest]


@dataclass(frozen=True)
class ScenarioCaller:
    """Who submits a scenario's workloads: an application allowed in every project."""

    client_id: str = "scenario"
    email: str = "scenario@example.com"

    def may_use(self, project_id: str) -> bool:
        return True


def submittable_kinds() -> dict[str, tuple[WorkloadKind, Parser]]:
    """Every kind with an API parser: its name -> (description, parse function)."""
    found: dict[str, tuple[WorkloadKind, Parser]] = {}
    for value in vars(kinds).values():
        if not isinstance(value, WorkloadKind):
            continue
        try:
            module = importlib.import_module(f"mockserver.parsing.{value.name}")
        except ImportError:
            continue  # not a kind clients create (the control API's load)
        parse = getattr(module, f"parse_{value.name}", None)
        if callable(parse):
            found[value.name] = (value, parse)
    return found


class Actions:
    def __init__(self, cluster: FakeCluster, version: ApiVersion) -> None:
        self.cluster, self.version = cluster, version
        self.caller = ScenarioCaller()
        # The scenario's names: name -> (workload id, kind or None for a load), and back.
        self.aliases: dict[str, tuple[str, WorkloadKind | None]] = {}
        self.names: dict[str, str] = {}
        self.kinds = submittable_kinds()

    def workload_id(self, name: str | None) -> str | None:
        return None if name is None or name not in self.aliases else self.aliases[name][0]

    def perform(self, step: Step) -> str:
        """Do the step's action; what happened, in a few words for the timeline."""
        action, argument = step.action, step.argument
        if action is Action.SUBMIT:
            return self._submit(argument)
        if action in (Action.SUSPEND, Action.RESUME, Action.DELETE):
            workload_id, kind = self._workload(argument, action)
            verb = {Action.SUSPEND: self.cluster.suspend, Action.RESUME: self.cluster.resume}
            verb.get(action, self.cluster.delete)(workload_id, self.caller, kind)
            return f"{action.value} {argument}"
        if action is Action.OUTCOME:
            self.cluster.force_outcome(self._known(argument["workload"]), argument["outcome"])
            return f"{argument['workload']}: forced {argument['outcome']}"
        if action is Action.LOAD:
            return self._load(argument)
        if action is Action.REMOVE_LOAD:
            self.cluster.remove_load(self._known(argument))
            return f"load {argument} removed"
        return self._chaos(action, argument)

    def _chaos(self, action: Action, argument: Any) -> str:
        cluster = self.cluster
        if action is Action.SET_QUOTA:
            project, pool = str(argument["project"]), argument.get("nodePool")
            chaos.set_quota(cluster, project, pool, float(argument["gpus"]))
            return f"project {project} quota: {argument['gpus']} GPUs"
        if action in (Action.NODE_DOWN, Action.REMOVE_NODE):
            return chaos.node_down(cluster, argument).summary
        if action in (Action.NODE_UP, Action.ADD_NODE):
            return chaos.node_up(cluster, argument).summary
        if action is Action.GPU_UNHEALTHY:
            return chaos.gpu_unhealthy(cluster, argument["node"], int(argument["gpu"])).summary
        if action is Action.GPU_HEALTHY:
            return chaos.gpu_healthy(cluster, argument["node"], int(argument["gpu"])).summary
        if action in (Action.DISCONNECT, Action.RECONNECT):
            # The cluster runs on; only what the control plane can tell changes (phases read Unknown).
            cluster.set_connected(action is Action.RECONNECT)
            return "cluster reconnected" if action is Action.RECONNECT else "cluster disconnected (Unknown)"
        raise ScenarioError(f"no such action: {action.value}")  # pragma: no cover - the schema lists them

    def _submit(self, argument: dict[str, Any]) -> str:
        kind_name = argument["kind"]
        if kind_name not in self.kinds:
            raise ScenarioError(f"unknown kind {kind_name!r} (known: {', '.join(sorted(self.kinds))})")
        if not self.version.serves(kind_name):
            raise ScenarioError(f"API {self.version.name} serves no {kind_name} workloads")
        kind, parse = self.kinds[kind_name]
        body = {"clusterId": self.cluster.topology.cluster_id, **argument["body"]}
        name = argument.get("as") or body.get("name")
        if not isinstance(name, str) or not name:
            raise ScenarioError("a submission needs a body with a name (or `as`)")
        if name in self.aliases:
            raise ScenarioError(f"the name {name!r} is taken by an earlier step")
        try:
            parsed = parse(body, self.version)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ScenarioError(f"the {kind_name} body cannot be read: {error!r}") from error
        workload = self.cluster.submit(parsed.request, self.caller, parsed.issues, kind)
        self._name(name, workload.workload_id, kind)
        return f"{kind_name} {name} submitted"

    def _load(self, argument: dict[str, Any]) -> str:
        name = argument["as"]
        if name in self.aliases:
            raise ScenarioError(f"the name {name!r} is taken by an earlier step")
        load = self.cluster.submit_load(
            name=name,
            project_id=str(argument["projectId"]),
            pod=PodRequest(gpus=int(argument.get("gpus", 1))),
            priority=int(argument.get("priority", 100)),
            preemptible=bool(argument.get("preemptible", False)),
            node_pools=list(argument.get("nodePools") or []),
        )
        self._name(name, load.workload_id, None)
        return f"load {name} submitted"

    def _name(self, name: str, workload_id: str, kind: WorkloadKind | None) -> None:
        self.aliases[name] = (workload_id, kind)
        self.names[workload_id] = name

    def _known(self, name: str) -> str:
        if name not in self.aliases:
            raise ScenarioError(f"no workload named {name!r} was submitted before this step")
        return self.aliases[name][0]

    def _workload(self, name: str, action: Action) -> tuple[str, WorkloadKind]:
        workload_id = self._known(name)
        kind = self.aliases[name][1]
        if kind is None:
            raise ScenarioError(f"{name} is a load; loads cannot be {action.value}ed (use removeLoad)")
        if action.value not in self.version.actions.get(kind.name, frozenset()):
            raise ScenarioError(f"API {self.version.name} has no {action.value} for {kind.name} workloads")
        return workload_id, kind

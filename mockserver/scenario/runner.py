"""Runs a scenario on a fake cluster of its own, on the manual clock: steps at their times, expectations
checked at every instant the cluster moves at, a timeline recorded on the way.

The clock jumps from one instant where something happens to the next (a step, a timer of the cluster,
the deadline of an expectation that waits), so a scenario of hours runs in milliseconds and an
expectation with `within` passes at the first instant it holds — exactly, not at a polling period.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

from mockserver.cluster import chaos
from mockserver.cluster.clock import ManualClock
from mockserver.cluster.cluster import FakeCluster
from mockserver.cluster.errors import ClusterError, ConfigError
from mockserver.config import ServerConfig, config_from_dict, load_config
from mockserver.scenario.actions import Actions
from mockserver.scenario.expect import check
from mockserver.scenario.model import Action, Scenario, ScenarioError, Step
from mockserver.scenario.timeline import Mark, Timeline
from mockserver.versions import DEFAULT_VERSION, VERSIONS

_EPSILON = 1e-9
# Steps that take a node or a GPU away (True) or give it back (False): the timeline hatches the time between.
_OUTAGES = {
    Action.NODE_DOWN: True,
    Action.NODE_UP: False,
    Action.GPU_UNHEALTHY: True,
    Action.GPU_HEALTHY: False,
}


@dataclass(frozen=True)
class Failure:
    step: Step
    at: float  # the scenario's time when it failed
    message: str

    def __str__(self) -> str:
        return f"step {self.step.line} '{self.step.name}' (at {self.step.at:g}s) failed at {self.at:g}s: {self.message}"


@dataclass
class ScenarioResult:
    scenario: Scenario
    timeline: Timeline
    failures: list[Failure] = field(default_factory=list)
    expectations: int = 0

    @property
    def passed(self) -> bool:
        return not self.failures


@functools.cache
def _default_config() -> ServerConfig:
    """Read once per process: a run changes no part of it (quotas change in the scheduler's queues)."""
    return load_config()


def _config(scenario: Scenario) -> ServerConfig:
    try:
        if scenario.cluster is None:
            return _default_config()
        if isinstance(scenario.cluster, str):
            return load_config(scenario.base / scenario.cluster)
        return config_from_dict(scenario.cluster, f"{scenario.source}: cluster")
    except ConfigError as error:
        raise ScenarioError(f"{scenario.source}: cluster: {error}") from error


def run_scenario(scenario: Scenario) -> ScenarioResult:
    """Run every step; failed expectations and refused actions are collected, not raised."""
    api = scenario.api or DEFAULT_VERSION
    if api not in VERSIONS:
        raise ScenarioError(f"{scenario.source}: api: unknown version {api} (known: {', '.join(VERSIONS)})")
    config = _config(scenario)
    cluster = FakeCluster(config.topology, config.timing, ManualClock(), scenario.seed)
    return _Run(scenario, cluster, Actions(cluster, VERSIONS[api])).run()


def run_file(path: Path) -> ScenarioResult:
    from mockserver.scenario.model import load_scenario

    return run_scenario(load_scenario(path))


class _Run:
    def __init__(self, scenario: Scenario, cluster: FakeCluster, actions: Actions) -> None:
        self.scenario, self.cluster, self.actions = scenario, cluster, actions
        self.start = cluster.now()
        self.timeline = Timeline(scenario.name, cluster.topology, names=actions.names)
        self.result = ScenarioResult(scenario, self.timeline)
        # Expectations still waiting for their `within`: (step, deadline).
        self.watching: list[tuple[Step, float]] = []

    def elapsed(self) -> float:
        return self.cluster.now() - self.start

    def run(self) -> ScenarioResult:
        for name in self.scenario.spare_nodes:  # not there yet: a node down from the start is one no pod uses
            try:
                chaos.node_down(self.cluster, name)
            except ClusterError as error:
                raise ScenarioError(f"{self.scenario.source}: spareNodes: {error}") from error
            self.timeline.outage(name, None, 0.0, began=True)
        steps = list(self.scenario.steps)
        horizon = max([self.scenario.until, *(s.at + (s.expect.within if s.expect else 0.0) for s in steps)])
        upcoming = 0
        while True:
            now = self.elapsed()
            while upcoming < len(steps) and steps[upcoming].at <= now + _EPSILON:
                self._perform(steps[upcoming], now)
                upcoming += 1
            self._recheck(now)
            self.timeline.sample(self.cluster, self.start)
            times = [d for _, d in self.watching]
            if upcoming < len(steps):
                times.append(steps[upcoming].at)
            due = self.cluster.inspect(lambda engine: engine.timers.next_time())
            if due is not None and due - self.start <= horizon:
                times.append(due - self.start)
            if horizon > now + _EPSILON:
                times.append(horizon)
            target = min((t for t in times if t > now + _EPSILON), default=None)
            if target is None:
                break
            self.cluster.advance(target - now)
        self.timeline.finish(self.cluster, self.start)
        return self.result

    def _perform(self, step: Step, now: float) -> None:
        if step.action is Action.EXPECT:
            self.result.expectations += 1
            self._expect(step, now)
            return
        try:
            self.actions.perform(step)
        except ClusterError as error:
            self._fail(step, now, f"{step.action.value} was refused: {error}")
            return
        except ScenarioError as error:
            self._fail(step, now, str(error))
            return
        outage = _OUTAGES.get(step.action)
        if outage is not None:
            argument = step.argument
            node, device = (
                (argument, None) if isinstance(argument, str) else (argument["node"], argument["gpu"])
            )
            self.timeline.outage(node, device, now, began=outage)

    def _expect(self, step: Step, now: float) -> None:
        assert step.expect is not None
        seen = check(self.cluster, step.expect, self.actions.workload_id(step.expect.workload))
        if seen is None:
            return
        if step.expect.within > 0:
            self.watching.append((step, step.at + step.expect.within))
        else:
            self._fail(step, now, seen)

    def _recheck(self, now: float) -> None:
        for step, deadline in list(self.watching):
            assert step.expect is not None
            seen = check(self.cluster, step.expect, self.actions.workload_id(step.expect.workload))
            if seen is None:
                self.watching.remove((step, deadline))
            elif now >= deadline - _EPSILON:
                self.watching.remove((step, deadline))
                self._fail(step, now, f"{seen} (still, {step.expect.within:g}s after {step.at:g}s)")

    def _fail(self, step: Step, now: float, message: str) -> None:
        failure = Failure(step, now, message)
        self.result.failures.append(failure)
        self.timeline.marks.append(Mark(now, str(failure), None, failed=True))

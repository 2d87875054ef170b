"""Checking a scenario's expectation against the cluster at one instant.

`check` answers None when the expectation holds, else what was seen instead, in words a failure message
can show as they are.
"""

from __future__ import annotations

from typing import Any

from mockserver.cluster.cluster import FakeCluster
from mockserver.cluster.errors import NotFound
from mockserver.cluster.reader import ClusterReader
from mockserver.cluster.reasons import ReasonCode
from mockserver.cluster.workload import Workload
from mockserver.scenario.model import Expectation, QuotaExpectation

# Codes of a phase change that took a workload's pods away from it for another workload.
PREEMPTIONS = frozenset({ReasonCode.PREEMPTED, ReasonCode.RECLAIMED})
_CLOSE = 1e-6


def check(cluster: FakeCluster, expectation: Expectation, workload_id: str | None) -> str | None:
    with cluster.reading() as reader:
        problems: list[str] = []
        if expectation.workload is not None:
            problems += _workload_problems(reader, expectation, workload_id)
        if expectation.quota is not None:
            problems += _quota_problems(reader, expectation.quota)
    return "; ".join(problems) or None


def find(reader: ClusterReader, workload_id: str | None) -> Workload | None:
    if workload_id is None:
        return None
    try:
        return reader.workload(workload_id, deleted=True)
    except NotFound:
        return None


def was_preempted(workload: Workload) -> bool:
    return any(PREEMPTIONS.intersection(change.codes) for change in workload.history)


def _workload_problems(reader: ClusterReader, wanted: Expectation, workload_id: str | None) -> list[str]:
    name = wanted.workload
    workload = find(reader, workload_id)
    if workload is None:
        return [f"workload {name} does not exist (never submitted, or removed)"]
    problems = []
    phase = workload.actual_phase.value
    if wanted.phase and phase not in wanted.phase:
        problems.append(f"{name} is {phase}, expected {' or '.join(wanted.phase)}")
    history = [change.phase.value for change in workload.history]
    if wanted.phases and not _in_order(wanted.phases, history):
        problems.append(f"{name} went through {' → '.join(history)}, expected {' → '.join(wanted.phases)}")
    placed = reader.placed(workload.workload_id)
    if wanted.nodes is not None and sorted({p.node for p in placed}) != sorted(set(wanted.nodes)):
        shown = ", ".join(sorted({p.node for p in placed})) or "no node"
        problems.append(f"{name}'s pods are on {shown}, expected {', '.join(wanted.nodes) or 'no node'}")
    if wanted.running_pods is not None and len(placed) != wanted.running_pods:
        problems.append(f"{name} has {len(placed)} running pods, expected {wanted.running_pods}")
    if wanted.pending_reason is not None:
        reason = workload.pending_reason or ""
        if phase != "Pending" or wanted.pending_reason.lower() not in reason.lower():
            problems.append(
                f"{name} is {phase} with pending reason {reason!r}, expected one containing "
                f"{wanted.pending_reason!r}"
            )
    if wanted.preempted is not None and was_preempted(workload) != wanted.preempted:
        problems.append(f"{name} was {'' if was_preempted(workload) else 'not '}preempted or reclaimed")
    return problems


def _in_order(wanted: tuple[str, ...], seen: list[str]) -> bool:
    """Whether `wanted` occurs in `seen` in order, other phases allowed between."""
    rest = iter(seen)
    return all(any(phase == step for step in rest) for phase in wanted)


def _quota_problems(reader: ClusterReader, wanted: QuotaExpectation) -> list[str]:
    snapshot = reader.scheduler_snapshot()
    project = next((p for p in snapshot["projects"] if p["id"] == wanted.project), None)
    if project is None:
        return [f"project {wanted.project} does not exist"]
    pool = wanted.node_pool or _first_pool(reader, wanted.project, snapshot)
    figures: dict[str, Any] | None = project["nodePools"].get(pool)
    if figures is None:
        return [f"node pool {pool} does not exist"]
    problems = []
    for label, key, expected in (
        ("allocated", "allocated", wanted.allocated),
        ("deserved", "deserved", wanted.deserved),
        ("fair share", "fairShare", wanted.fair_share),
    ):
        if expected is not None and abs(float(figures[key]) - expected) > _CLOSE:
            problems.append(
                f"project {wanted.project} in {pool}: {label} {figures[key]:g} GPUs, expected {expected:g}"
            )
    return problems


def _first_pool(reader: ClusterReader, project_id: str, snapshot: dict[str, Any]) -> str:
    project = reader.topology.project(project_id)
    pools: list[str] = list(project.default_node_pools) if project and project.default_node_pools else []
    return pools[0] if pools else str(snapshot["nodePools"][0])

"""Crash loops computed arithmetically: when a workload's crash-and-back-off cycle repeats exactly, the
engine jumps over whole cycles instead of scheduling, starting and crashing each one. Any kind whose
lifecycle backs off after a crash (trainings, workspaces) loops this way; the jump reads only the
`Workload` record, never its kind.

A workload that crashed and waits out its back-off is at its loop's anchor. At each anchor the engine's
state is fingerprinted: every other workload (of any kind, loads included), the scheduler (nodes, queue,
shares), the timers
that belong to the loop (its own and the scheduling cycles) relative to now. When two consecutive anchors
have the same fingerprint and the back-off has reached its cap, the next cycles are copies of the last
one shifted by its period: nothing else is due before the jump ends (checked against every other live
timer), and only the restart count moves, which stays below backoffLimit. The jump then writes what the
cycles would have written — the phase history and events, each renumbered — moves the loop's timers and
the engine's time, and leaves the last cycles before the target to the step-by-step engine. The result is
what stepping would give (tests/scale compares both), at the cost of the copied history instead of a
scheduling cycle per restart.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from mockserver.cluster.events import ClusterTask, Timer
from mockserver.cluster.lifecycle import Effect, Trigger
from mockserver.cluster.phases import Phase
from mockserver.cluster.pods import MAX_FINISHED_PODS, PodPhase
from mockserver.cluster.workload import Workload

if TYPE_CHECKING:
    from mockserver.cluster.engine import Engine


@dataclass(frozen=True)
class Anchor:
    """Where a loop stood right after one of its crashes."""

    at: float
    restarts: int
    fingerprint: tuple[Any, ...] | None  # None where no jump could follow (not worth the look)
    last_seq: int  # the last event logged by then
    history: int  # the workload's history length by then
    serial: int = 0  # the next pod serial by then: each cycle makes new pods, named by serial


class Jumps:
    """The anchors of the loops seen so far, and the jump itself."""

    def __init__(self) -> None:
        self._anchors: dict[str, Anchor] = {}
        self.jumped = 0  # cycles computed rather than stepped (for tests and benchmarks)

    def backed_off(self, engine: Engine, workload: Workload, target: float) -> None:
        """The workload crashed and waits out its back-off; jump if the last cycle repeats up to `target`."""
        timing, restarts = engine.timing, workload.restarts
        if timing.restart_delay(restarts - 1) != timing.restart_delay(restarts):
            self._anchors.pop(workload.workload_id, None)  # the back-off still grows: no two cycles alike
            return
        before = self._anchors.get(workload.workload_id)
        worth = (
            before is not None
            and before.restarts == restarts - 1
            and target - engine.at > 3 * (engine.at - before.at)  # room for a jump over whole cycles
            and _alone(engine, workload, before.last_seq)
        )
        # The fingerprint costs a look at the whole cluster: taken only where a jump could follow.
        anchor = Anchor(
            engine.at,
            restarts,
            _fingerprint(engine, workload) if worth else None,
            engine.log.last_seq(),
            len(workload.history),
            workload.job.next_serial,
        )
        self._anchors[workload.workload_id] = anchor
        if (
            not worth
            or before is None
            or before.fingerprint is None
            or before.fingerprint != anchor.fingerprint
        ):
            return
        period = anchor.at - before.at
        if period <= 0:
            return
        cycles = self._cycles(engine, workload, period, target)
        if cycles > 0:
            self._jump(engine, workload, before, anchor, period, cycles)

    def _cycles(self, engine: Engine, workload: Workload, period: float, target: float) -> int:
        """How many whole cycles can be copied: the last two before the target are left to step."""
        cycles = math.floor((target - engine.at) / period) - 2
        cycles = min(cycles, workload.request.backoff_limit - workload.restarts - 2)
        for timer in engine.timers.waiting():
            if not _belongs(timer, workload) and _live(engine, timer):
                cycles = min(cycles, math.floor((timer.time - engine.at) / period) - 2)
        return max(0, cycles)

    def _jump(
        self, engine: Engine, workload: Workload, before: Anchor, anchor: Anchor, period: float, cycles: int
    ) -> None:
        restarts = workload.restarts
        numbered = _Numbered(restarts, workload.request.backoff_limit)
        events = [
            (e.time, e.kind, e.workload_id, e.phase, numbered.parts(e.message), e.codes, e.detail)
            for e in engine.log.after(before.last_seq, anchor.last_seq - before.last_seq)
        ]
        # Pods of the copied cycles are new pods: their names move on by the pods a cycle makes.
        renamed = _PodNames(workload.name, anchor.serial - before.serial)
        changes = [(c.time, c, numbered.parts(c.reason)) for c in workload.history[before.history :]]
        keep = engine.log.capacity // max(1, len(events))  # older copies would fall out of the log at once
        engine.log.skip(max(0, cycles - keep) * len(events))
        for k in range(1, cycles + 1):
            shift, count = k * period, restarts + k
            if k > cycles - keep:
                for at, kind, workload_id, phase, message, codes, detail in events:
                    engine.log.record(
                        at + shift,
                        kind,
                        workload_id,
                        phase,
                        renamed(numbered.text(message, count), k),
                        codes,
                        None if detail is None else renamed(detail, k),
                    )
            workload.history.extend(
                replace(change, time=at + shift, reason=numbered.text(reason, count))
                for at, change, reason in changes
            )
        seconds = cycles * period
        workload.restarts += cycles
        workload.phase_since += seconds
        if workload.phase_message is not None:
            workload.phase_message = numbered.text(numbered.parts(workload.phase_message), workload.restarts)
        if workload.actual_phase is Phase.PENDING:
            engine._effect(workload, Effect.BACK_OFF)  # the back-off's reason, with the new restart count
        _copy_pods(workload, before.serial, anchor.serial, period, cycles)
        engine.timers.shift(lambda t: _belongs(t, workload), seconds)
        engine.at += seconds
        self.jumped += cycles
        self._anchors[workload.workload_id] = Anchor(
            engine.at,
            workload.restarts,
            anchor.fingerprint,
            engine.log.last_seq(),
            len(workload.history),
            workload.job.next_serial,
        )

    def forget(self, workload_id: str) -> None:
        self._anchors.pop(workload_id, None)


def _belongs(timer: Timer, workload: Workload) -> bool:
    return timer.workload_id == workload.workload_id or timer.action is ClusterTask.SCHEDULING_CYCLE


def _alone(engine: Engine, workload: Workload, since: int) -> bool:
    """Whether every event since `since` is the loop's own: if another workload moved, the cluster is not
    as it was a cycle ago, and the fingerprints cannot match (so none is taken)."""
    newer = engine.log.after(since, engine.log.capacity)
    return (
        bool(newer)
        and newer[0].seq == since + 1
        and all(e.workload_id == workload.workload_id for e in newer)
    )


def _live(engine: Engine, timer: Timer) -> bool:
    """False for a workload's timer set for an earlier phase: it fires into nothing whenever it fires."""
    if not isinstance(timer.action, Trigger):
        return True
    workload = engine.workloads.get(timer.workload_id)
    return workload is not None and workload.generation == timer.generation


def _fingerprint(engine: Engine, looping: Workload) -> tuple[Any, ...]:
    """Everything the next cycle depends on, with times relative to now and the restart count left out."""
    others = tuple(
        (t.workload_id, t.actual_phase, t.desired_phase, t.restarts, t.pending_reason, t.phase_since)
        for t in engine.workloads.values()  # every kind: trainings, workspaces and the control API's loads
        if t is not looping
    )
    timers = tuple(
        sorted(
            (t.time - engine.at, t.workload_id, str(t.action), t.generation == looping.generation)
            for t in engine.timers.waiting()
            if _belongs(t, looping) and (t.action is ClusterTask.SCHEDULING_CYCLE or _live(engine, t))
        )
    )
    mine = (looping.actual_phase is Phase.PENDING, looping.desired_phase, looping.attempt)
    return (mine, others, timers, repr(engine.scheduler.snapshot()))


class _PodNames:
    """Pod names in a copied cycle's texts (`<workload>-0-<serial>`), moved on by the copy's pods."""

    def __init__(self, name: str, per_cycle: int) -> None:
        self._pattern = re.compile(rf"\b{re.escape(name)}-0-(\d+)\b") if per_cycle else None
        self._name, self._per_cycle = name, per_cycle

    def __call__(self, text: str, k: int) -> str:
        if self._pattern is None or self._name not in text:
            return text
        return self._pattern.sub(lambda m: f"{self._name}-0-{int(m[1]) + k * self._per_cycle}", text)


def _copy_pods(workload: Workload, first: int, last: int, period: float, cycles: int) -> None:
    """The finished pods the copied cycles would have left (only as many as the workload keeps)."""
    job = workload.job
    made = [p for p in job.pods if first <= p.serial < last and not p.active]
    per_cycle = last - first
    for k in range(max(1, cycles - MAX_FINISHED_PODS + 1), cycles + 1):
        shift = k * period
        for pod in made:
            job.pods.append(
                replace(
                    pod,
                    serial=pod.serial + k * per_cycle,
                    created_at=pod.created_at + shift,
                    since=pod.since + shift,
                    started_at=None if pod.started_at is None else pod.started_at + shift,
                    finished_at=None if pod.finished_at is None else pod.finished_at + shift,
                )
            )
    job.pods.sort(key=lambda p: p.serial)
    job.changed()
    job.next_serial += cycles * per_cycle
    job.failed += cycles * sum(1 for p in made if p.phase is PodPhase.FAILED)
    job.trim()


class _Numbered:
    """A message of the copied cycle with its restart count cut out once ("restart 7 of 100"), so that
    each copy costs a join (and a message without the count, e.g. a placement, is shared, not copied)."""

    def __init__(self, restarts: int, limit: int, lead: str = "restart ") -> None:
        self._pattern = re.compile(rf"\b{lead}{restarts} of {limit}\b")
        self._lead, self._limit = lead, limit

    def parts(self, text: str) -> str | tuple[str, ...]:
        pieces = self._pattern.split(text)
        return text if len(pieces) == 1 else tuple(pieces)

    def text(self, parts: str | tuple[str, ...], restarts: int) -> str:
        if isinstance(parts, str):
            return parts
        return f"{self._lead}{restarts} of {self._limit}".join(parts)

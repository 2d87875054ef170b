"""The machinery under the cluster: fires timers in time order, applies each workload's transition table
and feeds the scheduler. It reads a workload's kind description and never asks which kind it is. Not
thread-safe on its own: `FakeCluster` holds the lock."""

from __future__ import annotations

import contextlib
import itertools
import random
import time
import uuid
from typing import Any

from mockserver.cluster.command import plan_from_command
from mockserver.cluster.events import ClusterTask, EventKind, EventLog, PodTask, Timers
from mockserver.cluster.index import WorkloadIndex
from mockserver.cluster.jobcontroller import JobController
from mockserver.cluster.jumps import Jumps
from mockserver.cluster.kinds.base import WorkloadKind
from mockserver.cluster.lifecycle import Effect, Trigger, transition_for
from mockserver.cluster.phases import DesiredPhase, Phase
from mockserver.cluster.priorities import PRIORITY_CLASSES, is_preemptible
from mockserver.cluster.reasons import Reason, ReasonCode
from mockserver.cluster.request import DURATION_ANNOTATION, OUTCOME_ANNOTATION, WorkloadRequest
from mockserver.cluster.scheduler import CycleResult, Job, Scheduler
from mockserver.cluster.timing import Timing
from mockserver.cluster.topology import Topology
from mockserver.cluster.workload import Attempt, PhaseChange, Workload

# A cycle that evicts frees room its preemptor takes in the next one; a few rounds settle an instant.
_CYCLES_PER_INSTANT = 4
_CLUSTER = ""  # the "workload id" of cluster-wide timers
# Deleted workloads kept for `deleted=true` lists, whatever the retention time: memory stays bounded.
MAX_DELETED = 10_000


class Engine:
    def __init__(
        self, topology: Topology, timing: Timing, start: float, seed: int | None, honour_annotations: bool
    ) -> None:
        self.topology = topology
        self.timing = timing
        self.honour_annotations = honour_annotations
        self.rng = random.Random(seed)
        # Every workload held, of every kind, in submission order.
        self.workloads: dict[str, Workload] = {}
        # (project id, name) of every workload still held: a create checks its name in O(1), not O(workloads).
        self.names_in_use: set[tuple[str, str]] = set()
        self.deleted: dict[str, Workload] = {}
        # Lists and counts read these instead of every workload (kept by the hooks marked "index").
        self.index = WorkloadIndex()
        self.deleted_index = WorkloadIndex()
        self.scheduler = Scheduler(topology, pipelining=True)  # pods terminate over time here
        self.timers = Timers()
        self.log = EventLog()
        self.job_seq = itertools.count()
        self.at = start
        self._target = start  # where the running sync goes: how far a crash loop may jump
        self.jumps = Jumps()
        self._cycle_requested = False
        self.jobs = JobController(self)
        # False while the control API has the cluster disconnected: reads show Unknown (reader.py).
        self.connected = True

    # ------------------------------------------------------------------ time
    def sync(self, now: float, budget: float | None = None) -> float:
        """Fire every timer due by `now`, in time order; scheduling cycles are timers too. With a `budget`
        (wall-clock seconds) stop at the first instant after it is spent; return the time reached."""
        now = max(now, self.at)
        self._target = now
        stop = None if budget is None else time.perf_counter() + budget
        while (due := self.timers.next_time()) is not None and due <= now:
            if stop is not None and due > self.at and time.perf_counter() > stop:
                return self.at  # between two instants: the caller lets others in, then goes on
            self.at = max(self.at, due)
            while (timer := self.timers.pop_due(self.at)) is not None:
                if timer.action is ClusterTask.SCHEDULING_CYCLE:
                    self._cycle_requested = False
                    self._run_cycles()
                elif timer.action is ClusterTask.PURGE_DELETED:
                    self.deleted.pop(timer.workload_id, None)
                    self.deleted_index.remove(timer.workload_id)  # index
                elif isinstance(timer.action, PodTask):
                    if (workload := self.workloads.get(timer.workload_id)) is not None:
                        self.jobs.on_timer(workload, timer)
                elif (
                    isinstance(timer.action, Trigger)
                    and (workload := self.workloads.get(timer.workload_id)) is not None
                    and timer.generation == workload.generation
                ):
                    self.fire(workload, self._resolve(workload, timer.action))
        self.at = now
        return now

    def request_cycle(self) -> None:
        """Something changed the queue or freed resources: schedule at the next period, as KAI does."""
        if not self._cycle_requested:
            self._cycle_requested = True
            self.timers.add(self.at + self.timing.schedulePeriod, _CLUSTER, ClusterTask.SCHEDULING_CYCLE)

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    # ------------------------------------------------------------- workloads
    def admit(self, workload: Workload) -> None:
        kind = workload.kind
        self.workloads[workload.workload_id] = workload
        if kind.unique_names:
            self.names_in_use.add((workload.project_id, workload.name))
        self.index.add(  # index
            workload.workload_id,
            workload.queue_seq,
            workload.project_id,
            kind.type_name,
            workload.name,
            kind.start.value,
            workload.created_at,
        )
        event, text = kind.events.submitted
        self.log.record(
            self.at,
            event,
            workload.workload_id,
            kind.start.value if kind.events.phases else None,
            text.format(name=workload.name, project=workload.project_id, by=workload.created_by),
        )
        for effect in kind.on_submit:
            self._effect(workload, effect)
        self._enter(workload, kind.start, "submitted")

    def attempt_for(self, kind: WorkloadKind, request: WorkloadRequest) -> Attempt:
        """How each run of the container goes: annotations, else the command, else the config (an
        interactive kind runs until it is stopped)."""
        seconds, succeeds = self.timing.runDuration, self.timing.outcome == "Completed"
        if kind.interactive:
            seconds = float("inf")
        plan = plan_from_command(request.command, request.args)
        if plan is not None:
            seconds, succeeds = plan.seconds, plan.succeeds
        if self.honour_annotations:
            duration = request.annotations.get(DURATION_ANNOTATION)
            with contextlib.suppress(ValueError):  # a malformed annotation is ignored, as Kubernetes would
                seconds = max(0.0, float(duration)) if duration is not None else seconds
            outcome = request.annotations.get(OUTCOME_ANNOTATION)
            if outcome in ("Completed", "Failed"):
                succeeds = outcome == "Completed"
        return Attempt(seconds if seconds < 1e15 else 1e15, succeeds)

    def fire(self, workload: Workload, trigger: Trigger, why: str = "") -> bool:
        """Apply the table's transition for this trigger; False when none applies (a no-op)."""
        row = transition_for(workload, trigger)
        if row is None:
            return False
        for effect in row.effects:
            self._effect(workload, effect)
        if row.target is not None:
            codes = Reason.codes_of(why) or _TRIGGER_CODES.get(trigger, ())
            self._enter(workload, row.target, self._reason(workload, trigger, row.target, why), codes)
        told = workload.kind.events.on_trigger.get(trigger)
        if told is not None:
            self.log.record(
                self.at, told[0], workload.workload_id, None, told[1].format(name=workload.name, why=why)
            )
        if Effect.BACK_OFF in row.effects:
            delay = self.timing.restart_delay(workload.restarts)
            self.timers.add(
                self.at + delay, workload.workload_id, Trigger.BACKOFF_ELAPSED, workload.generation
            )
            self.jumps.backed_off(self, workload, self._target)  # a repeating crash loop jumps ahead
        return True

    def _reason(self, workload: Workload, trigger: Trigger, target: Phase, why: str) -> str:
        reason = why or _default_reason(trigger, target)
        limit = workload.request.backoff_limit
        if trigger is Trigger.CRASHED and target is Phase.FAILED:
            return f"{reason}; backoffLimit {limit} reached"
        if trigger is Trigger.CRASHED:
            return f"{reason}; restart {workload.restarts} of {limit}"
        return reason

    def _resolve(self, workload: Workload, trigger: Trigger) -> Trigger:
        timed = workload.kind.timed.get(workload.actual_phase)
        if trigger is Trigger.ELAPSED and timed is not None and timed[1] is None:
            return Trigger.SUCCEEDED if workload.attempt.succeeds else Trigger.CRASHED
        return trigger

    def _effect(self, workload: Workload, effect: Effect) -> None:
        if effect is Effect.RELEASE:
            self.scheduler.release(workload.workload_id)
            if workload.kind.job_pods:
                self.jobs.release(workload)
            self.request_cycle()
        elif effect in (Effect.ENQUEUE, Effect.REQUEUE):
            if workload.kind.job_pods:
                self.jobs.start(workload)
                claim = self.jobs.missing_claim(workload)
                if claim is not None:  # no volume to bind: the scheduler cannot place its pods
                    self._unschedulable(workload, claim)
                    return
            self.scheduler.enqueue(self._job(workload))
            if effect is Effect.ENQUEUE:
                self.request_cycle()
        elif effect is Effect.COUNT_RESTART:
            workload.restarts += 1
        elif effect is Effect.BACK_OFF:
            # The replacement pod waits; its timer is set once the phase change is made (see fire).
            delay = self.timing.restart_delay(workload.restarts)
            limit = workload.request.backoff_limit
            workload.pending_reason = Reason(
                f"Back-off restarting failed container (restart {workload.restarts} of {limit}, "
                f"next attempt in {delay:g} s)",
                ReasonCode.BACK_OFF,
                restarts=workload.restarts,
                limit=limit,
                delay=delay,
            )
        elif effect is Effect.DESIRE_STOPPED:
            workload.desired_phase = DesiredPhase.STOPPED
        elif effect is Effect.DESIRE_RUNNING:
            workload.desired_phase = DesiredPhase.RUNNING
        elif effect is Effect.MARK_DELETED:
            workload.desired_phase, workload.deleted_at = DesiredPhase.DELETED, self.at
        elif effect is Effect.REMOVE:
            if workload.kind.retained:
                # Listed as deleted from now on: its last phase is final, not a Deleting that never ends.
                final = _final_phase(workload)
                workload.actual_phase, workload.phase_since = final, self.at
                self.index.moved(workload.workload_id, final.value)  # index
            workload.job.pods.clear()  # the Job's pods go with it, finished ones too
            workload.job.changed()
            del self.workloads[workload.workload_id]
            if workload.kind.unique_names:
                self.names_in_use.discard((workload.project_id, workload.name))
            entry = self.index.remove(workload.workload_id)  # index
            self.jumps.forget(workload.workload_id)
            if workload.kind.retained:
                self.deleted[workload.workload_id] = workload
                if len(self.deleted) > MAX_DELETED:  # bounded retention: the longest removed goes first
                    oldest = next(iter(self.deleted))
                    del self.deleted[oldest]
                    self.deleted_index.remove(oldest)  # index
                if entry is not None:
                    self.deleted_index.put(entry)  # index
                self.timers.add(
                    self.at + self.timing.deletedRetention, workload.workload_id, ClusterTask.PURGE_DELETED
                )
            event, text = workload.kind.events.removed
            self.log.record(self.at, event, workload.workload_id, None, text.format(name=workload.name))

    def requeue(self, workload: Workload) -> None:
        """Its pods back in the queue, every one pending (a Job's pods made anew), outside its table: a
        phase with no row for what happened to its pods (a node lost under a workload still Pending)."""
        self._effect(workload, Effect.REQUEUE)
        self.request_cycle()

    def _enter(self, workload: Workload, phase: Phase, why: str, codes: tuple[ReasonCode, ...] = ()) -> None:
        if workload.actual_phase is Phase.PENDING and phase is not Phase.PENDING:
            workload.pending_reason = None
        workload.generation += 1
        workload.actual_phase = phase
        self.index.moved(workload.workload_id, phase.value)  # index
        workload.phase_since = self.at
        if workload.kind.events.phases:
            # A plain timed step has nothing to tell a user: no phase message, the log just names the phase.
            workload.phase_message = why or None
            why = why or f"entered {phase.value}"
            workload.history.append(PhaseChange(self.at, phase, why, codes))
            self.log.record(self.at, EventKind.PHASE, workload.workload_id, phase.value, why, codes)
        timed = workload.kind.timed
        if phase in timed:
            delay, trigger = timed[phase]
            self.timers.add(
                self.at + delay(workload, self.timing),
                workload.workload_id,
                trigger or Trigger.ELAPSED,
                workload.generation,
            )

    def _unschedulable(self, workload: Workload, claim: str) -> None:
        """Its pods wait for a PVC that does not exist: the kube-scheduler's VolumeBinding words."""
        reason = Reason(
            f'0/{len(self.topology.nodes)} nodes are available: persistentvolumeclaim "{claim}" not found.',
            ReasonCode.NO_FIT,
        )
        workload.pending_reason = reason
        if workload.kind.events.pending:
            self.log.record(
                self.at, EventKind.PENDING, workload.workload_id, Phase.PENDING.value, reason, reason.codes
            )

    def _job(self, workload: Workload) -> Job:
        request = workload.request
        kind = workload.kind
        return Job(
            id=workload.workload_id,
            project_id=request.project_id,
            pod=request.pod,
            # A container kind's Job controller says how many pods it wants now (completions left).
            pods=len(workload.job.active()) if kind.job_pods else kind.pods(request.pods),
            priority=workload.priority,
            preemptible=workload.preemptible,
            node_pools=list(request.node_pools),
            node_type=request.node_type,
            seq=workload.queue_seq,
            min_pods=workload.kind.gang_minimum(request.pods, request.min_replicas),
            lead=request.lead_pod,
        )

    # ------------------------------------------------------------- scheduling
    def _run_cycles(self) -> None:
        for _ in range(_CYCLES_PER_INSTANT):
            result = self.scheduler.cycle()
            self._apply(result)
            if not result.evicted:
                return

    def _apply(self, result: CycleResult) -> None:
        for job_id in result.started:
            workload = self.workloads.get(job_id)
            if workload is not None and not workload.kind.job_pods:  # Job pods follow their own below
                self.fire(workload, Trigger.SCHEDULED, f"scheduled: {self.placement_text(job_id)}")
        for eviction in result.evicted:
            if (workload := self.workloads.get(eviction.job_id)) is not None:
                self.fire(workload, Trigger.EVICTED, eviction.message)
        self.jobs.on_cycle(result)
        for job_id, reason in result.pending.items():
            if (workload := self.workloads.get(job_id)) is not None and workload.pending_reason != reason:
                workload.pending_reason = reason
                if workload.kind.events.pending:
                    phase, codes = workload.actual_phase.value, Reason.codes_of(reason)
                    self.log.record(self.at, EventKind.PENDING, job_id, phase, reason, codes)

    def placement_text(self, job_id: str) -> str:
        pods: list[Any] = list(self.scheduler.placement(job_id) or [])
        parts = []
        for pod in pods:
            devices = ", ".join(
                f"GPU {d['index']}" + ("" if d["fraction"] >= 1 else f" x{d['fraction']:g}")
                for d in pod["devices"]
            )
            slice_ = f" MIG {pod['migProfile']}" if pod.get("migProfile") else ""
            parts.append(f"{pod['node']} ({pod['pool']}{': ' + devices if devices else ''}{slice_})")
        return "; ".join(parts) or "placed"


# What a trigger says when its words carry no codes of their own (a forced outcome, a timer).
_TRIGGER_CODES: dict[Trigger, tuple[ReasonCode, ...]] = {
    Trigger.SCHEDULED: (ReasonCode.SCHEDULED,),
    Trigger.EVICTED: (ReasonCode.PREEMPTED,),
    Trigger.CRASHED: (ReasonCode.CRASHED,),
}


def _default_reason(trigger: Trigger, target: Phase) -> str:
    return {
        Trigger.SUSPEND: "suspended",
        Trigger.RESUME: "resumed",
        Trigger.DELETE: "deletion requested",
        Trigger.SUCCEEDED: "all pods succeeded",
        Trigger.CRASHED: "container exited with an error",
    }.get(trigger, "")


def _final_phase(workload: Workload) -> Phase:
    """What a deleted workload shows in `deleted=true` lists: how it ended if it had (Completed, Failed,
    Stopped), else Stopped, as its pods were stopped by the deletion. The API's phases have no Deleted
    (our choice; see docs/fidelity.md)."""
    before = [c.phase for c in workload.history if c.phase is not Phase.DELETING]
    last = before[-1] if before else Phase.STOPPED
    return last if last in (Phase.COMPLETED, Phase.FAILED, Phase.STOPPED) else Phase.STOPPED


def priority_of(request: WorkloadRequest) -> tuple[int, bool]:
    priority = PRIORITY_CLASSES.get(request.priority_class, PRIORITY_CLASSES["train"])
    return priority, is_preemptible(priority, request.preemptible)

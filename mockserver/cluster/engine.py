"""The machinery under the cluster: fires timers in time order, applies the transition table and feeds
the scheduler. Not thread-safe on its own: `FakeCluster` holds the lock."""

from __future__ import annotations

import contextlib
import itertools
import random
import time
import uuid
from typing import Any

from mockserver.cluster.command import plan_from_command
from mockserver.cluster.events import ClusterTask, EventKind, EventLog, Timers
from mockserver.cluster.index import WorkloadIndex
from mockserver.cluster.jumps import Jumps
from mockserver.cluster.lifecycle import TIMED, Effect, Trigger, transition_for
from mockserver.cluster.loads import Load
from mockserver.cluster.phases import DesiredPhase, Phase
from mockserver.cluster.priorities import PRIORITY_CLASSES, is_preemptible
from mockserver.cluster.request import DURATION_ANNOTATION, OUTCOME_ANNOTATION, TrainingRequest
from mockserver.cluster.scheduler import CycleResult, Job, Scheduler
from mockserver.cluster.timing import Timing
from mockserver.cluster.topology import Topology
from mockserver.cluster.training import Attempt, PhaseChange, Training

# A cycle that evicts frees room its preemptor takes in the next one; a few rounds settle an instant.
_CYCLES_PER_INSTANT = 4
_CLUSTER = ""  # the "workload id" of cluster-wide timers
# Deleted trainings kept for `deleted=true` lists, whatever the retention time: memory stays bounded.
MAX_DELETED = 10_000


class Engine:
    def __init__(
        self, topology: Topology, timing: Timing, start: float, seed: int | None, honour_annotations: bool
    ) -> None:
        self.topology = topology
        self.timing = timing
        self.honour_annotations = honour_annotations
        self.rng = random.Random(seed)
        self.trainings: dict[str, Training] = {}
        # (project id, name) of every training still held: a create checks its name in O(1), not O(trainings).
        self.names_in_use: set[tuple[str, str]] = set()
        self.deleted: dict[str, Training] = {}
        # Lists and counts read these instead of every workload (kept by the hooks marked "index").
        self.index = WorkloadIndex()
        self.deleted_index = WorkloadIndex()
        self.loads: dict[str, Load] = {}
        self.scheduler = Scheduler(topology)
        self.timers = Timers()
        self.log = EventLog()
        self.job_seq = itertools.count()
        self.at = start
        self._target = start  # where the running sync goes: how far a crash loop may jump
        self.jumps = Jumps()
        self._cycle_requested = False

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
                elif (
                    isinstance(timer.action, Trigger)
                    and (training := self.trainings.get(timer.workload_id)) is not None
                    and timer.generation == training.generation
                ):
                    self.fire(training, self._resolve(training, timer.action))
        self.at = now
        return now

    def request_cycle(self) -> None:
        """Something changed the queue or freed resources: schedule at the next period, as KAI does."""
        if not self._cycle_requested:
            self._cycle_requested = True
            self.timers.add(self.at + self.timing.schedulePeriod, _CLUSTER, ClusterTask.SCHEDULING_CYCLE)

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    # ------------------------------------------------------------- trainings
    def admit(self, training: Training) -> None:
        self.trainings[training.workload_id] = training
        self.names_in_use.add((training.project_id, training.name))
        self.index.add(  # index
            training.workload_id,
            training.queue_seq,
            training.project_id,
            "Training",
            training.name,
            training.actual_phase.value,
            training.created_at,
        )
        self.log.record(
            self.at,
            EventKind.SUBMITTED,
            training.workload_id,
            Phase.CREATING.value,
            f"training {training.name} submitted to project {training.project_id} by {training.created_by}",
        )
        self._enter(training, Phase.CREATING, "submitted")

    def attempt_for(self, request: TrainingRequest) -> Attempt:
        """How each run of the container goes: annotations, else the command, else the config."""
        seconds, succeeds = self.timing.runDuration, self.timing.outcome == "Completed"
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

    def fire(self, training: Training, trigger: Trigger, why: str = "") -> bool:
        """Apply the table's transition for this trigger; False when none applies (a no-op)."""
        row = transition_for(training, trigger)
        if row is None:
            return False
        for effect in row.effects:
            self._effect(training, effect)
        if row.target is not None:
            self._enter(training, row.target, self._reason(training, trigger, row.target, why))
        if Effect.BACK_OFF in row.effects:
            delay = self.timing.restart_delay(training.restarts)
            self.timers.add(
                self.at + delay, training.workload_id, Trigger.BACKOFF_ELAPSED, training.generation
            )
            self.jumps.backed_off(self, training, self._target)  # a repeating crash loop jumps ahead
        return True

    def _reason(self, training: Training, trigger: Trigger, target: Phase, why: str) -> str:
        reason = why or _default_reason(trigger, target)
        limit = training.request.backoff_limit
        if trigger is Trigger.CRASHED and target is Phase.FAILED:
            return f"{reason}; backoffLimit {limit} reached"
        if trigger is Trigger.CRASHED:
            return f"{reason}; restart {training.restarts} of {limit}"
        return reason

    def _resolve(self, training: Training, trigger: Trigger) -> Trigger:
        if trigger is Trigger.ELAPSED and TIMED[training.actual_phase][1] is None:
            return Trigger.SUCCEEDED if training.attempt.succeeds else Trigger.CRASHED
        return trigger

    def _effect(self, training: Training, effect: Effect) -> None:
        if effect is Effect.RELEASE:
            self.scheduler.release(training.workload_id)
            self.request_cycle()
        elif effect is Effect.ENQUEUE:
            self.scheduler.enqueue(self._job(training))
            self.request_cycle()
        elif effect is Effect.COUNT_RESTART:
            training.restarts += 1
        elif effect is Effect.BACK_OFF:
            # The replacement pod waits; its timer is set once the phase change is made (see fire).
            delay = self.timing.restart_delay(training.restarts)
            limit = training.request.backoff_limit
            training.pending_reason = (
                f"Back-off restarting failed container (restart {training.restarts} of {limit}, "
                f"next attempt in {delay:g} s)"
            )
        elif effect is Effect.DESIRE_STOPPED:
            training.desired_phase = DesiredPhase.STOPPED
        elif effect is Effect.DESIRE_RUNNING:
            training.desired_phase = DesiredPhase.RUNNING
        elif effect is Effect.MARK_DELETED:
            training.desired_phase, training.deleted_at = DesiredPhase.DELETED, self.at
        elif effect is Effect.REMOVE:
            del self.trainings[training.workload_id]
            self.names_in_use.discard((training.project_id, training.name))
            self.jumps.forget(training.workload_id)
            self.deleted[training.workload_id] = training
            if len(self.deleted) > MAX_DELETED:  # bounded retention: the longest removed goes first
                oldest = next(iter(self.deleted))
                del self.deleted[oldest]
                self.deleted_index.remove(oldest)  # index
            if (entry := self.index.remove(training.workload_id)) is not None:  # index
                self.deleted_index.put(entry)
            self.timers.add(
                self.at + self.timing.deletedRetention, training.workload_id, ClusterTask.PURGE_DELETED
            )
            self.log.record(self.at, EventKind.DELETED, training.workload_id, None, "training removed")

    def _enter(self, training: Training, phase: Phase, why: str) -> None:
        if training.actual_phase is Phase.PENDING and phase is not Phase.PENDING:
            training.pending_reason = None
        training.generation += 1
        training.actual_phase = phase
        self.index.moved(training.workload_id, phase.value)  # index
        training.phase_since = self.at
        # A plain timed step has nothing to tell a user: no phase message, the log just names the phase.
        training.phase_message = why or None
        why = why or f"entered {phase.value}"
        training.history.append(PhaseChange(self.at, phase, why))
        self.log.record(self.at, EventKind.PHASE, training.workload_id, phase.value, why)
        if phase in TIMED:
            delay, trigger = TIMED[phase]
            self.timers.add(
                self.at + delay(training, self.timing),
                training.workload_id,
                trigger or Trigger.ELAPSED,
                training.generation,
            )

    def _job(self, training: Training) -> Job:
        request = training.request
        return Job(
            id=training.workload_id,
            project_id=request.project_id,
            pod=request.pod,
            pods=request.pods,
            priority=training.priority,
            preemptible=training.preemptible,
            node_pools=list(request.node_pools),
            node_type=request.node_type,
            seq=training.queue_seq,
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
            if (load := self.loads.get(job_id)) is not None:
                load.running, load.pending_reason = True, None
                self.index.moved(job_id, "Running")  # index
                self.log.record(self.at, EventKind.LOAD_STARTED, job_id, None, f"load {load.name} placed")
            elif (training := self.trainings.get(job_id)) is not None:
                self.fire(training, Trigger.SCHEDULED, f"scheduled: {self.placement_text(job_id)}")
        for eviction in result.evicted:
            if (load := self.loads.get(eviction.job_id)) is not None:
                load.running = False
                self.index.moved(load.workload_id, "Pending")  # index
                self.log.record(self.at, EventKind.LOAD_EVICTED, load.workload_id, None, eviction.message)
                self.scheduler.enqueue(load.job)
            elif (training := self.trainings.get(eviction.job_id)) is not None:
                self.fire(training, Trigger.EVICTED, eviction.message)
        for job_id, reason in result.pending.items():
            if (load := self.loads.get(job_id)) is not None:
                load.pending_reason = reason
            elif (training := self.trainings.get(job_id)) is not None and training.pending_reason != reason:
                training.pending_reason = reason
                self.log.record(self.at, EventKind.PENDING, job_id, training.actual_phase.value, reason)

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


def _default_reason(trigger: Trigger, target: Phase) -> str:
    return {
        Trigger.SUSPEND: "suspended",
        Trigger.RESUME: "resumed",
        Trigger.DELETE: "deletion requested",
        Trigger.SUCCEEDED: "all pods succeeded",
        Trigger.CRASHED: "container exited with an error",
    }.get(trigger, "")


def priority_of(request: TrainingRequest) -> tuple[int, bool]:
    priority = PRIORITY_CLASSES.get(request.priority_class, PRIORITY_CLASSES["train"])
    return priority, is_preemptible(priority, request.preemptible)

"""The fake cluster: trainings, their timed phases, and the scheduler that places them. No HTTP here.

Every public method first brings the cluster up to the clock's "now" by firing due timers in time
order and running the scheduler after each batch, so a given seed and request sequence always yields
the same history whatever the wall clock did.
"""

from __future__ import annotations

import itertools
import random
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from mockserver.cluster.admission import admit
from mockserver.cluster.clock import Clock, isoformat
from mockserver.cluster.errors import ClusterError, Forbidden, NotFound
from mockserver.cluster.events import Event, EventLog, Timers
from mockserver.cluster.lifecycle import (
    ACTIVE,
    DEFAULT_AUTO_DELETION_SECONDS,
    DEFAULT_BACKOFF_LIMIT,
    DEFAULT_PRIORITY_CLASS,
    DURATION_ANNOTATION,
    NON_PREEMPTIBLE_FROM,
    OUTCOME_ANNOTATION,
    OUTCOMES,
    PRIORITY_CLASSES,
    TERMINAL,
    TIMED_STAGES,
    Timing,
)
from mockserver.cluster.names import final_name
from mockserver.cluster.resources import pod_request_from_compute
from mockserver.cluster.scheduler import CycleResult, Job, Scheduler
from mockserver.cluster.topology import Topology
from mockserver.cluster.training import Training

# A cycle that evicts frees room its preemptor takes in the next one; a few rounds settle an instant.
_CYCLES_PER_INSTANT = 4
_CLUSTER = ""  # the "workload id" of cluster-wide timers


@dataclass(frozen=True)
class Principal:
    """Who is calling: an application and the projects it may act on (None = every project)."""

    client_id: str
    email: str
    projects: frozenset[str] | None

    def may_use(self, project_id: str) -> bool:
        return self.projects is None or project_id in self.projects


class Conflict(ClusterError):
    """A control-API request that makes no sense in the training's current phase."""

    status = 409


@dataclass
class Load:
    """Non-training work submitted through the control API, to make the scheduler reclaim or preempt."""

    workload_id: str
    name: str
    job: Job
    running: bool = False
    pending_reason: str | None = None

    def to_snapshot(self) -> dict[str, Any]:
        return {
            "workloadId": self.workload_id,
            "name": self.name,
            "projectId": self.job.project_id,
            "running": self.running,
            "priority": self.job.priority,
            "preemptible": self.job.preemptible,
            "pendingReason": self.pending_reason,
        }


class FakeCluster:
    def __init__(self, topology: Topology, timing: Timing, clock: Clock, seed: int | None = None) -> None:
        self.topology = topology
        self.timing = timing
        self.clock = clock
        self.seed = seed
        self._lock = threading.RLock()
        self.reset()

    # ----------------------------------------------------------------- control
    def reset(self) -> None:
        """Back to an empty cluster at the clock's start, with the same seed."""
        with self._lock:
            self.clock.reset()
            self._rng = random.Random(self.seed)
            self._trainings: dict[str, Training] = {}
            self._loads: dict[str, Load] = {}
            self._scheduler = Scheduler(self.topology)
            self._timers = Timers()
            self._log = EventLog()
            self._job_seq = itertools.count()
            self._at = self.clock.now()
            self._cycle_requested = False

    def advance(self, seconds: float) -> float:
        with self._lock:
            self.clock.advance(seconds)
            self._sync()
            return self.clock.now()

    def now(self) -> float:
        with self._lock:
            self._sync()
            return self._at

    def events_after(self, seq: int, limit: int = 1000) -> list[Event]:
        with self._lock:
            self._sync()
            return self._log.after(seq, limit)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            self._sync()
            state = self._scheduler.snapshot()
            state["clusterId"] = self.topology.cluster_id
            state["now"] = isoformat(self._at)
            state["trainings"] = [t.to_snapshot() for t in self._trainings.values()]
            state["loads"] = [load.to_snapshot() for load in self._loads.values()]
            return state

    def force_outcome(self, workload_id: str, outcome: str) -> None:
        """End the current attempt now: Completed, Failed, one ContainerFailure, or Preempted."""
        with self._lock:
            self._sync()
            training = self._find(workload_id)
            phase = training.actual_phase
            if outcome == "Completed" and phase == "Running":
                self._finish(training, "Completed", "completed (forced through the control API)")
            elif outcome == "Failed" and phase in ACTIVE:
                self._finish(training, "Failed", "failed (forced through the control API)")
            elif outcome == "ContainerFailure" and phase in ("Initializing", "Running"):
                self._crash(training, "container failed (forced through the control API)")
            elif outcome == "Preempted" and phase in ("Initializing", "Running"):
                self._scheduler.release(workload_id)
                self._request_cycle()
                self._evicted(training, "preempted (forced through the control API)")
            else:
                raise Conflict(f"cannot force outcome {outcome} on a training in phase {phase}")
            self._sync()

    def submit_load(
        self,
        name: str,
        project_id: str,
        compute: dict[str, Any],
        priority: int,
        preemptible: bool,
        node_pools: list[str],
    ) -> dict[str, Any]:
        with self._lock:
            self._sync()
            if self.topology.project(project_id) is None:
                raise ClusterError(f"project '{project_id}' does not exist")
            unknown = [p for p in node_pools if p not in self.topology.node_pools]
            if unknown:
                raise ClusterError(f"unknown node pool(s): {', '.join(unknown)}")
            load_id = self._new_id()
            job = Job(
                id=load_id,
                project_id=project_id,
                pod=pod_request_from_compute(compute),
                pods=1,
                priority=priority,
                preemptible=preemptible,
                node_pools=list(node_pools),
                node_type=None,
                seq=next(self._job_seq),
            )
            self._loads[load_id] = Load(load_id, name, job)
            self._scheduler.enqueue(job)
            self._request_cycle()
            self._log.record(
                self._at, "load-submitted", load_id, None, f"load {name} in project {project_id}"
            )
            self._sync()
            return {"workloadId": load_id, "name": name, "running": self._loads[load_id].running}

    def remove_load(self, load_id: str) -> None:
        with self._lock:
            self._sync()
            if self._loads.pop(load_id, None) is None:
                raise NotFound(f"no load with id {load_id}")
            self._scheduler.release(load_id)
            self._request_cycle()
            self._log.record(self._at, "load-removed", load_id, None, "load removed")
            self._sync()

    # ------------------------------------------------------------- trainings
    def submit(self, body: dict[str, Any], caller: Principal) -> dict[str, Any]:
        with self._lock:
            self._sync()
            admit(body, self.topology, caller.may_use, self._name_taken)
            project = self.topology.project(body["projectId"])
            assert project is not None  # admit() rejected unknown projects
            spec = body.get("spec")
            annotations = _annotations(spec)
            as_prefix = bool(body.get("useGivenNameAsPrefix"))
            name = final_name(body["name"], as_prefix, self._rng)
            while as_prefix and self._name_taken(project.id, name):
                name = final_name(body["name"], as_prefix, self._rng)
            training = Training(
                workload_id=self._new_id(),
                name=name,
                requested_name=body["name"],
                project_id=project.id,
                department_id=project.department_id,
                cluster_id=self.topology.cluster_id,
                created_by=caller.email,
                created_at=self._at,
                spec=spec,
                duration=_annotation_seconds(annotations, self.timing.runDuration),
                outcome=_annotation_outcome(annotations, self.timing.outcome),
                backoff_limit=_spec_int(spec, "backoffLimit", DEFAULT_BACKOFF_LIMIT),
                auto_delete_after=_spec_int(
                    spec, "autoDeletionTimeAfterCompletionSeconds", DEFAULT_AUTO_DELETION_SECONDS
                ),
                terminate_after_preemption=bool((spec or {}).get("terminateAfterPreemption")),
                phase_since=self._at,
                queue_seq=next(self._job_seq),
            )
            self._trainings[training.workload_id] = training
            self._log.record(
                self._at,
                "submitted",
                training.workload_id,
                "Creating",
                f"training {name} submitted to project {project.id} by {caller.client_id}",
            )
            self._enter(training, "Creating")
            response = training.to_api()
            self._sync()
            return response

    def get(self, workload_id: str, caller: Principal) -> dict[str, Any]:
        with self._lock:
            self._sync()
            return self._visible(workload_id, caller).to_api()

    def suspend(self, workload_id: str, caller: Principal) -> None:
        with self._lock:
            self._sync()
            training = self._visible(workload_id, caller)
            if training.desired_phase == "Deleted" or training.actual_phase not in ACTIVE:
                return  # already stopping, stopped or finished: nothing to do (documented no-op)
            training.desired_phase = "Stopped"
            self._release(training)
            self._enter(training, "Stopping", "suspended")
            self._sync()

    def resume(self, workload_id: str, caller: Principal) -> None:
        with self._lock:
            self._sync()
            training = self._visible(workload_id, caller)
            if training.desired_phase != "Stopped":
                return  # only a suspended training can be resumed (documented no-op otherwise)
            training.desired_phase = "Running"
            if training.actual_phase == "Stopped":
                self._enter(training, "Resuming", "resumed")
            # A training still Stopping goes on to Resuming when it reaches Stopped (see _enter).
            self._sync()

    def delete(self, workload_id: str, caller: Principal) -> None:
        with self._lock:
            self._sync()
            training = self._visible(workload_id, caller)
            if training.desired_phase == "Deleted":
                return
            training.desired_phase, training.deleted_at = "Deleted", self._at
            self._release(training)
            self._enter(training, "Deleting", "deletion requested")
            self._sync()

    # -------------------------------------------------------------- machinery
    def _visible(self, workload_id: str, caller: Principal) -> Training:
        training = self._find(workload_id)
        if not caller.may_use(training.project_id):
            raise Forbidden("You do not have sufficient permissions.")
        return training

    def _find(self, workload_id: str) -> Training:
        training = self._trainings.get(workload_id)
        if training is None:
            raise NotFound("Resource id not found.")
        return training

    def _name_taken(self, project_id: str, name: str) -> bool:
        return any(t.project_id == project_id and t.name == name for t in self._trainings.values())

    def _new_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _sync(self) -> None:
        """Fire every timer due by now, in time order; scheduling cycles are timers too."""
        now = max(self.clock.now(), self._at)
        while (due := self._timers.next_time()) is not None and due <= now:
            self._at = max(self._at, due)
            while (timer := self._timers.pop_due(self._at)) is not None:
                if timer.action == "cycle":
                    self._cycle_requested = False
                    self._run_cycles()
                elif (
                    training := self._trainings.get(timer.workload_id)
                ) and timer.generation == training.generation:
                    self._fire(training, timer.action)
        self._at = now

    def _request_cycle(self) -> None:
        """Something changed the queue or freed resources: schedule at the next period, as KAI does."""
        if not self._cycle_requested:
            self._cycle_requested = True
            self._timers.add(self._at + self.timing.schedulePeriod, _CLUSTER, "cycle", 0)

    def _run_cycles(self) -> None:
        for _ in range(_CYCLES_PER_INSTANT):
            result = self._scheduler.cycle()
            self._apply(result)
            if not result.evicted:
                return

    def _apply(self, result: CycleResult) -> None:
        for job_id in result.started:
            if (load := self._loads.get(job_id)) is not None:
                load.running, load.pending_reason = True, None
                self._log.record(self._at, "load-started", job_id, None, f"load {load.name} placed")
            elif (training := self._trainings.get(job_id)) is not None and training.actual_phase == "Pending":
                training.pending_reason = None
                self._enter(training, "Initializing", f"scheduled: {self._placement_text(job_id)}")
        for eviction in result.evicted:
            if (load := self._loads.get(eviction.job_id)) is not None:
                load.running = False
                self._log.record(self._at, "load-evicted", load.workload_id, None, eviction.message)
                self._scheduler.enqueue(load.job)
            elif (training := self._trainings.get(eviction.job_id)) is not None:
                self._evicted(training, eviction.message)
        for job_id, reason in result.pending.items():
            if (load := self._loads.get(job_id)) is not None:
                load.pending_reason = reason
            elif (training := self._trainings.get(job_id)) is not None and training.pending_reason != reason:
                training.pending_reason = reason
                self._log.record(self._at, "pending", job_id, training.actual_phase, reason)

    def _placement_text(self, job_id: str) -> str:
        pods = self._scheduler.placement(job_id) or []
        parts = []
        for pod in pods:
            devices = ", ".join(
                f"GPU {d['index']}" + ("" if d["fraction"] >= 1 else f" x{d['fraction']:g}")
                for d in pod["devices"]
            )
            slice_ = f" MIG {pod['migProfile']}" if pod.get("migProfile") else ""
            parts.append(f"{pod['node']} ({pod['pool']}{': ' + devices if devices else ''}{slice_})")
        return "; ".join(parts) or "placed"

    def _enter(self, training: Training, phase: str, why: str = "") -> None:
        training.generation += 1
        training.actual_phase = phase
        training.phase_since = self._at
        self._log.record(self._at, "phase", training.workload_id, phase, why or f"entered {phase}")
        if phase in TIMED_STAGES:
            self._timers.add(
                self._at + self.timing.stage_seconds(phase),
                training.workload_id,
                "advance",
                training.generation,
            )
        if phase == "Pending":
            self._scheduler.enqueue(self._job(training))
            self._request_cycle()
        elif phase == "Running":
            self._timers.add(
                self._at + training.duration, training.workload_id, "finish", training.generation
            )
        elif phase == "Stopped" and training.desired_phase == "Running":
            self._enter(training, "Resuming", "resumed while stopping")
        elif phase in TERMINAL:
            self._timers.add(
                self._at + training.auto_delete_after,
                training.workload_id,
                "auto-delete",
                training.generation,
            )

    def _fire(self, training: Training, action: str) -> None:
        if action == "advance":
            target = TIMED_STAGES[training.actual_phase][1]
            if target is None:
                del self._trainings[training.workload_id]
                self._log.record(self._at, "deleted", training.workload_id, None, "training removed")
            else:
                self._enter(training, target)
        elif action == "finish":
            if training.outcome == "Completed":
                self._finish(training, "Completed", "all pods succeeded")
            else:
                self._crash(training, "container exited with an error")
        elif action == "auto-delete":
            training.desired_phase, training.deleted_at = "Deleted", self._at
            self._enter(training, "Deleting", "autoDeletionTimeAfterCompletionSeconds elapsed")

    def _finish(self, training: Training, phase: str, why: str) -> None:
        self._release(training)
        self._enter(training, phase, why)

    def _crash(self, training: Training, why: str) -> None:
        training.restarts += 1
        if training.restarts > training.backoff_limit:
            self._finish(training, "Failed", f"{why}; backoffLimit {training.backoff_limit} reached")
        else:
            self._enter(
                training, "Initializing", f"{why}; restart {training.restarts} of {training.backoff_limit}"
            )

    def _evicted(self, training: Training, message: str) -> None:
        if training.terminate_after_preemption:
            self._enter(training, "Failed", f"{message}; terminateAfterPreemption is set")
        else:
            self._enter(training, "Terminating", message)

    def _release(self, training: Training) -> None:
        if training.actual_phase in ACTIVE:
            self._scheduler.release(training.workload_id)
            self._request_cycle()

    def _job(self, training: Training) -> Job:
        spec = training.spec or {}
        priority = PRIORITY_CLASSES[spec.get("priorityClass") or DEFAULT_PRIORITY_CLASS]
        preemptibility = spec.get("preemptibility")
        preemptible = preemptibility == "preemptible" if preemptibility else priority < NON_PREEMPTIBLE_FROM
        return Job(
            id=training.workload_id,
            project_id=training.project_id,
            pod=pod_request_from_compute(spec.get("compute")),
            pods=max(1, spec.get("parallelism") or 1),
            priority=priority,
            preemptible=preemptible,
            node_pools=list(spec.get("nodePools") or []),
            node_type=spec.get("nodeType"),
            seq=training.queue_seq,
        )


def _annotations(spec: dict[str, Any] | None) -> dict[str, str]:
    items = (spec or {}).get("annotations") or []
    return {a["name"]: a.get("value") or "" for a in items if a and a.get("name") and not a.get("exclude")}


def _annotation_seconds(annotations: dict[str, str], default: float) -> float:
    try:
        return max(0.0, float(annotations[DURATION_ANNOTATION]))
    except (KeyError, ValueError):
        return default


def _annotation_outcome(annotations: dict[str, str], default: str) -> str:
    value = annotations.get(OUTCOME_ANNOTATION)
    return value if value in OUTCOMES else default


def _spec_int(spec: dict[str, Any] | None, key: str, default: int) -> int:
    value = (spec or {}).get(key)
    return default if value is None else int(value)

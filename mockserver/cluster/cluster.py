"""The fake cluster: workloads of every kind, their timed phases, and the scheduler that places them. No
HTTP here.

Every public method first brings the cluster up to the clock's "now" by firing due timers in time
order and running the scheduler after each batch, so a given seed and request sequence always yields
the same history whatever the wall clock did.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from mockserver.cluster.admission import Caller, admit
from mockserver.cluster.clock import Clock
from mockserver.cluster.engine import Engine, priority_of
from mockserver.cluster.errors import (
    ClusterError,
    ComplianceIssue,
    Conflict,
    Forbidden,
    NotFound,
    SubmissionRejected,
)
from mockserver.cluster.events import Event
from mockserver.cluster.kinds import LOAD_KINDS, TRAINING, WorkloadKind, load_kind
from mockserver.cluster.kinds.load import LOAD_SUBMITTER
from mockserver.cluster.lifecycle import Trigger, transition_for
from mockserver.cluster.names import final_name
from mockserver.cluster.phases import ACTIVE, HOLDING, Phase
from mockserver.cluster.reader import ClusterReader
from mockserver.cluster.request import WorkloadRequest
from mockserver.cluster.resources import PodRequest
from mockserver.cluster.timing import Timing
from mockserver.cluster.topology import Topology
from mockserver.cluster.workload import Attempt, Workload

# Outcomes the control API can force on the current attempt, and the trigger and phases each needs.
FORCED_OUTCOMES: dict[str, tuple[Trigger, frozenset[Phase]]] = {
    "Completed": (Trigger.SUCCEEDED, frozenset({Phase.RUNNING})),
    "Failed": (Trigger.FAILED, ACTIVE),
    "ContainerFailure": (Trigger.CRASHED, HOLDING),
    "Preempted": (Trigger.EVICTED, HOLDING),
}


_Result = TypeVar("_Result")

# Wall-clock seconds of work an advance does while holding the lock; then others may take it.
ADVANCE_SLICE_SECONDS = 0.02
# Set when the process stops: a running advance ends at its next slice.
_stopping = threading.Event()


def stop_advances() -> None:
    _stopping.set()


class FakeCluster:
    def __init__(
        self,
        topology: Topology,
        timing: Timing,
        clock: Clock,
        seed: int | None = None,
        *,
        honour_annotations: bool = True,
    ) -> None:
        self.topology = topology
        self.timing = timing
        self.clock = clock
        self.seed = seed
        self.honour_annotations = honour_annotations
        self._lock = threading.RLock()
        self.reset()

    @contextmanager
    def _synced(self) -> Iterator[Engine]:
        """Hold the lock with the cluster brought up to now, before and after the caller's change."""
        with self._lock:
            self._engine.sync(self.clock.now())
            yield self._engine
            self._engine.sync(self.clock.now())

    # ----------------------------------------------------------------- control
    def reset(self) -> None:
        """Back to an empty cluster at the clock's start, with the same seed."""
        with self._lock:
            self.clock.reset()
            self._engine = Engine(
                self.topology, self.timing, self.clock.now(), self.seed, self.honour_annotations
            )

    def advance(self, seconds: float) -> float:
        """Move the manual clock on, a slice of work at a time: between slices the lock is free, so other
        callers go on (seeing the clock where the work got to), and a stopping server ends the advance."""
        with self._lock:
            if self.clock.mode != "manual":
                raise Conflict("the clock is realtime; start the server with --clock manual to advance it")
            engine, target = self._engine, self.clock.now() + seconds
        while True:
            with self._lock:
                if self._engine is not engine:  # a reset meanwhile: the advance belonged to the old cluster
                    return self._engine.at
                if _stopping.is_set():
                    raise Conflict(f"the server is stopping; the clock got to {self._engine.at:.0f} s")
                reached = engine.sync(target, ADVANCE_SLICE_SECONDS)
                if reached > self.clock.now():
                    self.clock.advance(reached - self.clock.now())
                if reached >= target:
                    return engine.at
            # Let a caller waiting for the lock have it: released and taken again at once, it went back to
            # this thread (CPython hands neither the lock nor the interpreter over on release).
            time.sleep(0)

    def now(self) -> float:
        with self._synced() as engine:
            return engine.at

    def change(self, apply: Callable[[Engine], _Result]) -> _Result:
        """Run `apply` on the engine with the lock held and time brought up to now, before and after: the
        way in for changes that live in modules of their own (`chaos.py`). The state file journals the
        call, so `apply` is a record (a frozen dataclass), never a closure."""
        with self._synced() as engine:
            return apply(engine)

    def set_connected(self, connected: bool) -> None:
        """Connect or disconnect the cluster from the control plane: while disconnected, reads show every
        live workload's phase as Unknown (Run:ai's word when it cannot tell); the cluster runs on."""
        with self._synced() as engine:
            engine.connected = connected

    def inspect(self, read: Callable[[Engine], _Result]) -> _Result:
        """`change` for reads (a scenario run asks when the next timer is due): never journalled."""
        with self._synced() as engine:
            return read(engine)

    def events_after(self, seq: int, limit: int = 1000) -> list[Event]:
        with self._synced() as engine:
            return engine.log.after(seq, limit)

    def force_outcome(self, workload_id: str, outcome: str) -> None:
        """End the current attempt now: Completed, Failed, one ContainerFailure, or Preempted."""
        with self._synced() as engine:
            training = engine.workloads.get(workload_id)
            if training is None or not training.kind.runs_container:
                raise NotFound()
            trigger, phases = FORCED_OUTCOMES[outcome]
            if training.actual_phase not in phases:
                raise Conflict(
                    f"cannot force outcome {outcome} on a training in phase {training.actual_phase}"
                )
            why = f"{outcome} (forced through the control API)"
            pods = training.job.active()
            if trigger is Trigger.CRASHED and pods:  # one container fails: its pod's policy decides
                engine.jobs.container_ended(training, pods[0], False, why)
                return
            engine.fire(training, trigger, why)

    def submit_load(
        self,
        name: str,
        project_id: str,
        pod: PodRequest,
        priority: int,
        preemptible: bool,
        node_pools: Sequence[str],
    ) -> Workload:
        with self._synced() as engine:
            project = self.topology.project(project_id)
            if project is None:
                raise ClusterError(f"project '{project_id}' does not exist")
            unknown = [p for p in node_pools if p not in self.topology.node_pools]
            if unknown:
                raise ClusterError(f"unknown node pool(s): {', '.join(unknown)}")
            kind, priority_class = load_kind(priority, preemptible)
            request = WorkloadRequest(
                name=name,
                project_id=project_id,
                cluster_id=self.topology.cluster_id,
                name_is_prefix=False,
                image=None,
                pod=pod,
                pods=1,
                priority_class=priority_class,
                preemptible=preemptible,
                node_pools=tuple(node_pools),
                node_type=None,
                backoff_limit=0,
                auto_delete_after=0.0,
                terminate_after_preemption=False,
                command=None,
                args=None,
            )
            load = Workload(
                workload_id=engine.new_id(),
                name=name,
                kind=kind,
                request=request,
                department_id=project.department_id,
                created_by=LOAD_SUBMITTER,
                created_at=engine.at,
                attempt=Attempt(float("inf"), True),
                priority=priority,
                preemptible=preemptible,
                phase_since=engine.at,
                queue_seq=next(engine.job_seq),
            )
            engine.admit(load)
        return load

    def remove_load(self, load_id: str) -> None:
        with self._synced() as engine:
            load = engine.workloads.get(load_id)
            if load is None or load.kind not in LOAD_KINDS.values():
                raise NotFound(f"no load with id {load_id}")
            engine.fire(load, Trigger.DELETE)

    # ------------------------------------------------------------- workloads
    def submit(
        self,
        request: WorkloadRequest,
        caller: Caller,
        request_issues: Sequence[ComplianceIssue] = (),
        kind: WorkloadKind = TRAINING,
    ) -> Workload:
        with self._synced() as engine:
            admit(request, self.topology, caller, self._name_taken, request_issues)
            project = self.topology.project(request.project_id)
            assert project is not None  # admit() rejected unknown projects
            name = final_name(request.name, request.name_is_prefix, engine.rng)
            while request.name_is_prefix and self._name_taken(project.id, name):
                name = final_name(request.name, True, engine.rng)
            priority, preemptible = priority_of(request)
            workload = Workload(
                workload_id=engine.new_id(),
                name=name,
                kind=kind,
                request=request,
                department_id=project.department_id,
                created_by=caller.email,
                created_at=engine.at,
                attempt=engine.attempt_for(kind, request),
                priority=priority,
                preemptible=preemptible,
                phase_since=engine.at,
                queue_seq=next(engine.job_seq),
            )
            engine.admit(workload)
        return workload

    def workload(
        self, workload_id: str, kind: WorkloadKind, caller: Caller | None = None, *, deleted: bool = False
    ) -> Workload:
        """One workload of this kind; a caller outside its project is refused. `deleted`: removed ones too."""
        with self.reading() as reader:
            return reader.workload(workload_id, kind, caller, deleted=deleted)

    def training(self, workload_id: str, caller: Caller | None = None, *, deleted: bool = False) -> Workload:
        return self.workload(workload_id, TRAINING, caller, deleted=deleted)

    def suspend(self, workload_id: str, caller: Caller, kind: WorkloadKind = TRAINING) -> Workload:
        return self._client_action(workload_id, caller, Trigger.SUSPEND, kind)

    def resume(self, workload_id: str, caller: Caller, kind: WorkloadKind = TRAINING) -> Workload:
        return self._client_action(workload_id, caller, Trigger.RESUME, kind)

    def delete(self, workload_id: str, caller: Caller, kind: WorkloadKind = TRAINING) -> Workload:
        return self._client_action(workload_id, caller, Trigger.DELETE, kind)

    def update(
        self,
        workload_id: str,
        caller: Caller,
        kind: WorkloadKind,
        revise: Callable[[WorkloadRequest], tuple[WorkloadRequest, Sequence[ComplianceIssue]]],
    ) -> Workload:
        """A client changes a workload's spec (an inference's PATCH): `revise` makes the new request from
        the current one, under the lock, so that two updates never lose one another; the kind's UPDATE row
        says how the change rolls out."""
        with self._synced() as engine:
            workload = engine.workloads.get(workload_id)
            if workload is None or workload.kind is not kind or Trigger.UPDATE not in kind.client_actions:
                raise NotFound()
            if not caller.may_use(workload.project_id):
                raise Forbidden()
            if transition_for(workload, Trigger.UPDATE) is None:
                return workload  # being deleted or failed: the documented no-op, the spec stays
            request, issues = revise(workload.request)
            unknown = [p for p in request.node_pools if p not in self.topology.node_pools]
            problems = list(issues) + (
                [ComplianceIssue("spec.nodePools", f"unknown node pool(s): {', '.join(unknown)}")]
                if unknown
                else []
            )
            if problems:
                raise SubmissionRejected(problems)
            workload.request = request
            workload.priority, workload.preemptible = priority_of(request)
            engine.fire(workload, Trigger.UPDATE, "spec updated by a client")
            return workload

    # ------------------------------------------------------------------ reads
    @contextmanager
    def reading(self) -> Iterator[ClusterReader]:
        """One consistent instant for a whole answer: the lock held, time brought up to now once."""
        with self._synced() as engine:
            yield ClusterReader(engine, self.topology)

    def workloads(self, kind: WorkloadKind | None = None, *, deleted: bool = False) -> list[Workload]:
        with self.reading() as reader:
            return reader.workloads(kind, deleted=deleted)

    def trainings(self, *, deleted: bool = False) -> list[Workload]:
        return self.workloads(TRAINING, deleted=deleted)

    def loads(self) -> list[Workload]:
        with self.reading() as reader:
            return reader.loads()

    def events_for(self, workload_id: str) -> list[Event]:
        with self.reading() as reader:
            return reader.events_for(workload_id)

    def placement(self, workload_id: str) -> Any:
        with self.reading() as reader:
            return reader.placement(workload_id)

    def scheduler_snapshot(self) -> dict[str, Any]:
        with self.reading() as reader:
            return reader.scheduler_snapshot()

    # -------------------------------------------------------------- machinery
    def _client_action(
        self, workload_id: str, caller: Caller, trigger: Trigger, kind: WorkloadKind
    ) -> Workload:
        with self._synced() as engine:
            workload = engine.workloads.get(workload_id)
            if workload is None or workload.kind is not kind or trigger not in kind.client_actions:
                raise NotFound()
            if not caller.may_use(workload.project_id):
                raise Forbidden()
            engine.fire(workload, trigger)  # no matching transition: the documented no-op
            return workload

    def _name_taken(self, project_id: str, name: str) -> bool:
        return (project_id, name) in self._engine.names_in_use

"""The scheduler the fake cluster drives: jobs in, placements and evictions out, one cycle at a time.

Cycles are incremental (docs/scheduler.md §5): a cycle after which nothing was submitted, released, placed
or evicted returns at once, and a cycle's work grows with the number of shapes of pending pods and the
pods it places, not with the depth of the queue. The outcome is the one a full pass would give.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from mockserver.cluster.reasons import Reason
from mockserver.cluster.scheduler import messages
from mockserver.cluster.scheduler.allocate import allocate
from mockserver.cluster.scheduler.chaos import SchedulerChaos
from mockserver.cluster.scheduler.consolidate import consolidate
from mockserver.cluster.scheduler.jobs import CycleResult, Eviction, Job, PlacedPod
from mockserver.cluster.scheduler.nodes import NodeState
from mockserver.cluster.scheduler.preempt import preempt
from mockserver.cluster.scheduler.reclaim import reclaim
from mockserver.cluster.scheduler.session import Session, refresh_fair_shares
from mockserver.cluster.scheduler.snapshot import node_view, queue_view
from mockserver.cluster.scheduler.state import ClusterState, PodRecord, Shape
from mockserver.cluster.scheduler.vector import ResourceVector
from mockserver.cluster.topology import Topology

WAITING = "Waiting for the next scheduling cycle"


@dataclass(eq=False)
class _Entry:
    """A job the scheduler knows: its pods, each pending in the job's shape or placed."""

    job: Job
    shape: Shape
    pods: list[PodRecord]

    def running(self) -> int:
        """Pods bound to a node (a pipelined pod holds its place but is not bound yet)."""
        pods = self.pods
        if len(pods) == 1:  # most jobs: no generator to run
            return 0 if pods[0].pods is None or pods[0].pipelined else 1
        return sum(1 for p in pods if p.pods is not None and not p.pipelined)

    def waiting(self) -> int:
        return len(self.pods) - self.running()


class Scheduler:
    def __init__(self, topology: Topology, pipelining: bool = False) -> None:
        """`pipelining`: a pod that evicts others waits, pipelined, until the caller says its victims are
        gone (`unpipeline`), as KAI binds it only then; a caller that does not model pod termination (no
        clock) leaves it off, and the pod starts in the cycle that freed its place."""
        self._topology = topology
        self._pipelining = pipelining
        self._state = ClusterState(topology)
        # Every job the scheduler knows, waiting or placed, in the order it was enqueued.
        self._jobs: dict[str, _Entry] = {}
        # Set by anything that can change what a cycle decides; a cycle that changes nothing clears it.
        self._dirty = True
        # Jobs whose pending reason was never reported (new, or pods back after an eviction).
        self._unreported: dict[str, None] = {}
        # Pipelined pods whose victims are gone: bound by the next cycle.
        self._ready: list[PodRecord] = []
        # Nodes down, GPUs failed, quotas changed (cluster chaos).
        self.chaos = SchedulerChaos(self._state, self)

    # -- commands ----------------------------------------------------------------------------------

    def enqueue(self, job: Job) -> None:
        """Make the job's pods wait for placement; a job already known is replaced (its pods freed)."""
        self.release(job.id)
        shape = self._state.shape_of(job)
        if job.lead is None:
            records = [PodRecord(job, i, shape) for i in range(max(1, job.pods))]
        else:  # the lead pod waits in a shape of its own
            others = self._state.shape_of(job, 1)
            records = [PodRecord(job, i, shape if i == 0 else others) for i in range(max(1, job.pods))]
        if job.min_pods:
            for record in records:
                record.gang = records
        entry = _Entry(job, shape, records)
        for record in entry.pods:
            self._state.wait(record)
        self._jobs[job.id] = entry
        self._unreported[job.id] = None
        self._dirty = True

    def release(self, job_id: str) -> None:
        """Forget the job: its running pods free their devices, its pending pods leave the queue."""
        entry = self._jobs.pop(job_id, None)
        if entry is None:
            return
        self._state.forget(entry.pods)
        for record in entry.pods:
            if record.pods is not None:
                self._state.unbind(record)
        self._unreported.pop(job_id, None)
        self._dirty = True

    def changed(self) -> None:
        """Something outside the queue changed (a node, a device, a quota): the next cycle decides again."""
        self._dirty = True

    def finish_pod(self, job_id: str, index: int) -> None:
        """One pod of the job is done (succeeded, or failed for good): it frees its place or leaves the
        queue; the job's other pods stay as they are. The job leaves with its last pod."""
        entry = self._jobs.get(job_id)
        record = None if entry is None else next((r for r in entry.pods if r.index == index), None)
        if entry is None or record is None:
            return
        if record.pods is not None:
            self._state.unbind(record)
            if entry.job.min_pods:
                # A gang's finished pod still counts toward its minimum (KAI counts Succeeded pods as
                # ready): the rest of the gang need not run it.
                entry.job.min_pods -= 1
        else:
            self._state.forget([record])
        entry.pods.remove(record)  # a gang's records are this list: it leaves the gang too
        if not entry.pods:
            del self._jobs[job_id]
            self._unreported.pop(job_id, None)
        self._dirty = True

    def add_pod(self, job: Job) -> int:
        """One more pending pod for the job (a failed pod's replacement, or the next of its completions),
        with an index of its own; a job the scheduler no longer knows comes back with this one pod."""
        entry = self._jobs.get(job.id)
        if entry is None:
            self.enqueue(replace(job, pods=1))
            return 0
        record = PodRecord(entry.job, max(r.index for r in entry.pods) + 1, entry.shape)
        self._state.wait(record)
        entry.pods.append(record)
        self._unreported[job.id] = None
        self._dirty = True
        return record.index

    def unpipeline(self, job_id: str, index: int) -> None:
        """The victims of the job's pipelined pod are gone: the next cycle binds it where it waits."""
        entry = self._jobs.get(job_id)
        record = None if entry is None else next((r for r in entry.pods if r.index == index), None)
        if record is not None and record.pipelined:
            self._ready.append(record)  # still pipelined (not bound) until that cycle
            self._dirty = True

    def cycle(self) -> CycleResult:
        """Allocate, consolidate, reclaim, preempt (KAI's default action order). Jobs that lose their last pod leave the scheduler."""
        if not self._dirty:
            # Same state as after a cycle that changed nothing: this one would change nothing either.
            return CycleResult(started=[], evicted=[], pending={})
        state = self._state
        ready = [r for r in self._ready if r.pipelined and r.job.id in self._jobs]
        self._ready = []
        for record in ready:
            record.pipelined = False
        shapes = [s for s in state.shapes.values() if s.members]
        session = Session(state, shapes, self._pipelining)
        allocate(session)
        # Pods placed so far leave their shapes now, so that reclaim and preempt do not walk past them
        # (readers pass over placed pods anyway: the outcome is the same).
        _compact(session.started)
        allocated = len(session.started)
        consolidate(session)
        reclaim(session)
        preempt(session)
        _compact(session.started[allocated:] + [r for r, _ in session.pipelined])
        started_pods = ready + session.started
        started = self._first_starts(started_pods, session)
        moved = [(r.job.id, r.index, message) for r, message in session.moved if r.pods is not None]
        pipelined = [
            (r.job.id, r.index, r.pods[0].node.node.name, victims)
            for r, victims in session.pipelined
            if r.pods is not None
        ]
        for job_id, *_ in pipelined:
            self._unreported[job_id] = None  # its reason is now the pipelining
        bound = [(r.job.id, r.index) for r in started_pods if r.pods is not None and not r.pipelined]
        bound += [(job_id, index) for job_id, index, _ in moved]
        lost: list[tuple[str, int, str]] = []
        evicted = self._evictions(session.evicted, lost)
        self._dirty = bool(ready or session.started or session.evicted or session.moved or session.pipelined)
        return CycleResult(
            started=started,
            evicted=evicted,
            pending=self._pending_changes(shapes),
            bound=bound,
            lost=lost,
            moved=moved,
            pipelined=pipelined,
        )

    def _first_starts(self, records: list[PodRecord], session: Session) -> list[str]:
        started_pods = Counter([r.job.id for r in records if not r.pipelined])
        evicted_pods = Counter([r.job.id for r, _ in session.evicted])
        jobs = self._jobs
        started: list[str] = []
        for job_id, count in started_pods.items():
            before = jobs[job_id].running() - count
            if evicted_pods:
                before += evicted_pods[job_id]
            if before == 0:
                started.append(job_id)
        return started

    def evict_node(self, node: NodeState, message: str) -> CycleResult:
        """The node stopped: each pod on it is evicted as a cycle evicts one (below), so that a job keeping
        other pods running (a gang, its minimum) loses just that pod, and any other job leaves whole."""
        victims: list[tuple[PodRecord, str]] = []
        for record in self.chaos.records_on(node):
            self._state.unbind(record)
            if record.pipelined:  # not bound yet: it waits again, for another place
                record.pipelined = False
                self._state.wait(record)
                self._unreported[record.job.id] = None
                continue
            victims.append((record, message))
        lost: list[tuple[str, int, str]] = []
        evicted = self._evictions(victims, lost)
        self._dirty = True
        return CycleResult(started=[], evicted=evicted, pending={}, lost=lost)

    def _evictions(
        self, victims: list[tuple[PodRecord, str]], lost: list[tuple[str, int, str]]
    ) -> list[Eviction]:
        """Whole-job evictions; a pod of a job that keeps others running (at least its gang's minimum) is
        pending again (its workload controller recreates it)."""
        evicted: list[Eviction] = []
        for record, message in victims:
            entry = self._jobs.get(record.job.id)
            if entry is None or entry.pods[0].job is not record.job:
                continue  # the job already left in this loop
            running = entry.running()
            if running == 0 or running < entry.job.min_pods:
                if running:  # a gang below its minimum: the rest of it goes too (stale-gang eviction)
                    message = Reason.joined([message, messages.stale_gang(entry.job.min_pods)])
                    for other in entry.pods:
                        if other.pods is not None:
                            self._state.unbind(other)
                self._state.forget(entry.pods)
                del self._jobs[record.job.id]
                self._unreported.pop(record.job.id, None)
                evicted.append(Eviction(record.job.id, message))
            else:
                self._state.wait(record)
                self._unreported[record.job.id] = None
                lost.append((record.job.id, record.index, message))
        return evicted

    def _pending_changes(self, shapes: list[Shape]) -> dict[str, str]:
        pending: dict[str, str] = {}
        for shape in shapes:
            reason = _reason(shape)
            if shape.reported != reason and shape.members:
                shape.reported = reason
                for member in shape.members:
                    job = member.job
                    # A single-pod job among the pending pods runs nothing; others are counted.
                    if job.pods <= 1 or (job.id not in pending and self._jobs[job.id].running() == 0):
                        pending[job.id] = reason
        for job_id in self._unreported:
            entry = self._jobs.get(job_id)
            if job_id not in pending and entry is not None and entry.running() == 0:
                pending[job_id] = self.pending_reason(job_id) or _reason(entry.shape)
        self._unreported.clear()
        return pending

    # -- reads -------------------------------------------------------------------------------------

    def pods(self, job_id: str) -> list[PlacedPod]:
        """The job's running pods, by pod index; may be fewer than requested (each pod is placed alone)."""
        entry = self._jobs.get(job_id)
        if entry is None:
            return []
        return [
            r.pods[0].placed(job_id, r.index) for r in entry.pods if r.pods is not None and not r.pipelined
        ]

    def pod(self, job_id: str, index: int) -> PlacedPod | None:
        """One running pod of the job, by pod index (binding a pod of a 1,000-pod job must not build the
        other 999)."""
        entry = self._jobs.get(job_id)
        if entry is None:
            return None
        records = entry.pods
        record = records[index] if 0 <= index < len(records) and records[index].index == index else None
        if record is None:
            record = next((r for r in records if r.index == index), None)
        if record is None or record.pods is None or record.pipelined:
            return None
        return record.pods[0].placed(job_id, record.index)

    def requested_pods(self, job_id: str) -> int:
        entry = self._jobs.get(job_id)
        return 0 if entry is None else len(entry.pods)

    def running_pods(self, job_id: str) -> int:
        entry = self._jobs.get(job_id)
        return 0 if entry is None else entry.running()

    def pending_reason(self, job_id: str) -> str | None:
        """Why the job's waiting pods wait; None when none waits (or the job is unknown)."""
        entry = self._jobs.get(job_id)
        if entry is None or entry.waiting() == 0:
            return None
        waiting = [r for r in entry.pods if r.pods is None or r.pipelined]
        if all(r.pipelined for r in waiting):
            assert waiting[0].pods is not None
            return messages.pipelined(waiting[0].pods[0].node.node.name)
        return _reason(entry.shape)

    def placement(self, job_id: str) -> list[dict[str, Any]] | None:
        """The running pods in the control API's form; None while no pod runs."""
        pods = self.pods(job_id)
        return [p.to_dict() for p in pods] if pods else None

    def pool_total(self, pool: str) -> ResourceVector:
        """What the pool offers in charge units (a MIG slice counts its leading g)."""
        return self._state.totals[pool]

    def snapshot(self, job_ids: Iterable[str] | None = None) -> dict[str, Any]:
        """Nodes, projects, departments and jobs; `job_ids`: only those jobs (a dashboard's delta)."""
        refresh_fair_shares(self._state, [s for s in self._state.shapes.values() if s.members])
        entries = (
            self._jobs.values()
            if job_ids is None
            else [e for i in job_ids if (e := self._jobs.get(i)) is not None]
        )
        return {
            "nodePools": list(self._topology.node_pools),
            "nodes": [node_view(n) for n in self._state.nodes],
            "projects": [self._project_view(p.id) for p in self._topology.projects.values()],
            "departments": [self._department_view(d.id) for d in self._topology.departments.values()],
            "jobs": [self._job_view(entry) for entry in entries],
        }

    def _job_view(self, entry: _Entry) -> dict[str, Any]:
        placed = [r for r in entry.pods if r.pods is not None and not r.pipelined]
        return {
            "id": entry.job.id,
            "projectId": entry.job.project_id,
            "nodePool": placed[0].pool if placed else None,
            "pods": self.placement(entry.job.id) or [],
            "requestedPods": len(entry.pods),
            "runningPods": len(placed),
            "pendingReason": self.pending_reason(entry.job.id),
            "preemptible": entry.job.preemptible,
            "priority": entry.job.priority,
        }

    def _project_view(self, project_id: str) -> dict[str, Any]:
        project = self._topology.projects[project_id]
        return {
            "id": project.id,
            "name": project.name,
            "departmentId": project.department_id,
            "nodePools": {
                pool: queue_view(self._state.projects[project_id, pool]) for pool in self._topology.node_pools
            },
        }

    def _department_view(self, department_id: str) -> dict[str, Any]:
        department = self._topology.departments[department_id]
        return {
            "id": department.id,
            "name": department.name,
            "nodePools": {
                pool: queue_view(self._state.departments[department_id, pool])
                for pool in self._topology.node_pools
            },
        }


def _compact(records: list[PodRecord]) -> None:
    """Drop placed pods from the pending lists of the shapes `records` belong to."""
    for shape in {id(r.shape): r.shape for r in records}.values():
        shape.compact()


def _reason(shape: Shape) -> str:
    if "" in shape.reasons:
        return shape.reasons[""]
    reasons = [shape.reasons[pool] for pool in shape.candidates if shape.reasons.get(pool)]
    return Reason.joined(reasons) if reasons else WAITING  # each pool's reason codes kept

"""The scheduler the fake cluster drives: jobs in, placements and evictions out, one cycle at a time."""

from __future__ import annotations

from mockserver.cluster.scheduler.allocate import allocate
from mockserver.cluster.scheduler.jobs import CycleResult, Eviction, Job
from mockserver.cluster.scheduler.nodes import UNIT, NodeState
from mockserver.cluster.scheduler.preempt import preempt
from mockserver.cluster.scheduler.queues import GPU, QueueState
from mockserver.cluster.scheduler.reclaim import reclaim
from mockserver.cluster.scheduler.session import Session, refresh_fair_shares
from mockserver.cluster.scheduler.state import ClusterState, JobRecord
from mockserver.cluster.topology import Topology


class Scheduler:
    def __init__(self, topology: Topology) -> None:
        self._topology = topology
        self._state = ClusterState(topology)
        # Every job the scheduler knows, waiting or placed, in the order it was enqueued.
        self._jobs: dict[str, JobRecord] = {}

    def enqueue(self, job: Job) -> None:
        """Make the job wait for placement; a job already known is replaced (its placement freed)."""
        self.release(job.id)
        self._jobs[job.id] = self._state.record(job)

    def release(self, job_id: str) -> None:
        record = self._jobs.pop(job_id, None)
        if record is not None and record.pods is not None:
            self._state.unbind(record)

    def cycle(self) -> CycleResult:
        """Allocate, then reclaim, then preempt. Evicted jobs leave the scheduler at once."""
        session = Session(self._state, [r for r in self._jobs.values() if r.pods is None])
        allocate(session)
        reclaim(session)
        preempt(session)
        for record, _ in session.evicted:
            del self._jobs[record.job.id]
        return CycleResult(
            started=session.started,
            evicted=[Eviction(record.job.id, message) for record, message in session.evicted],
            pending={r.job.id: _pending_reason(r) for r in self._jobs.values() if r.pods is None},
        )

    def placement(self, job_id: str) -> list[dict] | None:
        record = self._jobs.get(job_id)
        if record is None or record.pods is None:
            return None
        return [p.describe() for p in record.pods]

    def snapshot(self) -> dict:
        refresh_fair_shares(self._state, [r for r in self._jobs.values() if r.pods is None])
        return {
            "nodePools": list(self._topology.node_pools),
            "nodes": [_node_view(n) for n in self._state.nodes],
            "projects": [self._project_view(p.id) for p in self._topology.projects.values()],
            "departments": [self._department_view(d.id) for d in self._topology.departments.values()],
            "jobs": [
                {
                    "id": r.job.id,
                    "projectId": r.job.project_id,
                    "nodePool": r.pool,
                    "pods": [p.describe() for p in r.pods] if r.pods is not None else [],
                    "pendingReason": _pending_reason(r) if r.pods is None else None,
                    "preemptible": r.job.preemptible,
                    "priority": r.job.priority,
                }
                for r in self._jobs.values()
            ],
        }

    def _project_view(self, project_id: str) -> dict:
        project = self._topology.projects[project_id]
        return {
            "id": project.id,
            "name": project.name,
            "departmentId": project.department_id,
            "nodePools": {
                pool: _queue_view(self._state.projects[project_id, pool])
                for pool in self._topology.node_pools
            },
        }

    def _department_view(self, department_id: str) -> dict:
        department = self._topology.departments[department_id]
        return {
            "id": department.id,
            "name": department.name,
            "nodePools": {
                pool: _queue_view(self._state.departments[department_id, pool])
                for pool in self._topology.node_pools
            },
        }


def _pending_reason(record: JobRecord) -> str:
    if "" in record.reasons:
        return record.reasons[""]
    reasons = [record.reasons[pool] for pool in record.candidates if record.reasons.get(pool)]
    return "; ".join(reasons) if reasons else "Waiting for the next scheduling cycle"


def _queue_view(queue: QueueState) -> dict:
    return {
        "deserved": queue.deserved[GPU],
        "limit": queue.limit[GPU],
        "overQuotaWeight": queue.weight[GPU],
        "allocated": round(queue.allocated[GPU], 6),
        "allocatedNonPreemptible": round(queue.allocated_np[GPU], 6),
        "fairShare": round(queue.fair_share[GPU], 6),
    }


def _node_view(state: NodeState) -> dict:
    node = state.node
    return {
        "name": node.name,
        "pool": node.pool,
        "gpus": node.gpus,
        "gpuMemoryMiB": node.gpu_memory_mib,
        "gpuModel": node.gpu_model,
        "labels": dict(node.labels),
        "devices": [
            {
                "index": i,
                "allocated": round(used / UNIT, 6),
                "whole": state.whole[i],
                "holders": list(dict.fromkeys(state.holders[i])),
            }
            for i, used in enumerate(state.used)
        ],
        "mig": {p: {"capacity": c, "used": c - state.mig_free[p]} for p, c in node.mig_profiles.items()},
        "cpuMillis": node.cpu_millis,
        "cpuMillisUsed": node.cpu_millis - state.cpu_free,
        "memoryMiB": node.memory_mib,
        "memoryMiBUsed": round(node.memory_mib - state.memory_free, 6),
        "extendedResources": {
            name: {"capacity": amount, "used": round(amount - state.extended_free[name], 6)}
            for name, amount in node.extended.items()
        },
    }

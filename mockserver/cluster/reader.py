"""Reads of the cluster at one instant: everything a view needs, without moving time in between."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from mockserver.cluster.admission import Caller
from mockserver.cluster.engine import Engine
from mockserver.cluster.errors import Forbidden, NotFound
from mockserver.cluster.events import Event
from mockserver.cluster.index import WorkloadIndex
from mockserver.cluster.kinds import LOAD_KINDS, TRAINING, WorkloadKind
from mockserver.cluster.phases import Phase
from mockserver.cluster.scheduler import PlacedPod
from mockserver.cluster.topology import Topology
from mockserver.cluster.workload import Workload

_LOADS = frozenset(LOAD_KINDS.values())


class ClusterReader:
    """Valid only inside `FakeCluster.reading()`, which holds the lock and has synced the clock."""

    def __init__(self, engine: Engine, topology: Topology) -> None:
        self._engine = engine
        self.topology = topology

    def now(self) -> float:
        return self._engine.at

    def workloads(self, kind: WorkloadKind | None = None, *, deleted: bool = False) -> list[Workload]:
        """Workloads held (of one kind, or all), or (deleted=True) those removed within the retention."""
        held = (self._engine.deleted if deleted else self._engine.workloads).values()
        return [self._shown(w, deleted) for w in held if kind is None or w.kind is kind]

    def trainings(self, *, deleted: bool = False) -> list[Workload]:
        return self.workloads(TRAINING, deleted=deleted)

    def workload(
        self,
        workload_id: str,
        kind: WorkloadKind | None = None,
        caller: Caller | None = None,
        *,
        deleted: bool = False,
    ) -> Workload:
        """One workload (of this kind); a caller outside its project is refused. `deleted`: removed ones too."""
        engine = self._engine
        workload = engine.workloads.get(workload_id) or (engine.deleted.get(workload_id) if deleted else None)
        if workload is None or (kind is not None and workload.kind is not kind):
            raise NotFound()
        if caller is not None and not caller.may_use(workload.project_id):
            raise Forbidden()
        return self._shown(workload, workload_id not in engine.workloads)

    def _shown(self, workload: Workload, deleted: bool) -> Workload:
        """The workload as the control plane sees it: a copy in phase Unknown while the cluster is
        disconnected (deleted ones keep their final phase: the control plane recorded it)."""
        if self._engine.connected or deleted:
            return workload
        return replace(workload, actual_phase=Phase.UNKNOWN, phase_message="the cluster is disconnected")

    def training(self, workload_id: str, caller: Caller | None = None, *, deleted: bool = False) -> Workload:
        return self.workload(workload_id, TRAINING, caller, deleted=deleted)

    def loads(self) -> list[Workload]:
        """The control API's loads, oldest first."""
        return [w for w in self._engine.workloads.values() if w.kind in _LOADS]

    def index(self, *, deleted: bool = False) -> WorkloadIndex:
        """The live workloads (every kind) by project, phase, type and name; or the deleted ones."""
        return self._engine.deleted_index if deleted else self._engine.index

    def events_for(self, workload_id: str) -> list[Event]:
        return self._engine.log.of(workload_id)

    def placed(self, workload_id: str) -> tuple[PlacedPod, ...]:
        """Where the workload's running pods are, typed (none while nothing is placed)."""
        return tuple(self._engine.scheduler.pods(workload_id))

    def placement(self, workload_id: str) -> Any:
        """The scheduler's pods of this workload (None while nothing is placed)."""
        return self._engine.scheduler.placement(workload_id)

    def scheduler_snapshot(self, job_ids: Iterable[str] | None = None) -> dict[str, Any]:
        return self._engine.scheduler.snapshot(job_ids)

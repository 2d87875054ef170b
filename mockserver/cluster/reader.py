"""Reads of the cluster at one instant: everything a view needs, without moving time in between."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mockserver.cluster.admission import Caller
from mockserver.cluster.engine import Engine
from mockserver.cluster.errors import Forbidden, NotFound
from mockserver.cluster.events import Event
from mockserver.cluster.index import WorkloadIndex
from mockserver.cluster.loads import Load
from mockserver.cluster.topology import Topology
from mockserver.cluster.training import Training


class ClusterReader:
    """Valid only inside `FakeCluster.reading()`, which holds the lock and has synced the clock."""

    def __init__(self, engine: Engine, topology: Topology) -> None:
        self._engine = engine
        self.topology = topology

    def now(self) -> float:
        return self._engine.at

    def trainings(self, *, deleted: bool = False) -> list[Training]:
        """Trainings the trainings API answers for, or (deleted=True) those removed within the retention."""
        return list((self._engine.deleted if deleted else self._engine.trainings).values())

    def training(self, workload_id: str, caller: Caller | None = None, *, deleted: bool = False) -> Training:
        """One training; a caller outside its project is refused. `deleted`: look among removed ones too."""
        engine = self._engine
        training = engine.trainings.get(workload_id) or (engine.deleted.get(workload_id) if deleted else None)
        if training is None:
            raise NotFound()
        if caller is not None and not caller.may_use(training.project_id):
            raise Forbidden()
        return training

    def loads(self) -> list[Load]:
        return list(self._engine.loads.values())

    def load(self, workload_id: str) -> Load | None:
        return self._engine.loads.get(workload_id)

    def index(self, *, deleted: bool = False) -> WorkloadIndex:
        """The live workloads (trainings and loads) by project, phase, type and name; or the deleted ones."""
        return self._engine.deleted_index if deleted else self._engine.index

    def events_for(self, workload_id: str) -> list[Event]:
        return self._engine.log.of(workload_id)

    def placement(self, workload_id: str) -> Any:
        """The scheduler's pods of this workload (None while nothing is placed)."""
        return self._engine.scheduler.placement(workload_id)

    def scheduler_snapshot(self, job_ids: Iterable[str] | None = None) -> dict[str, Any]:
        return self._engine.scheduler.snapshot(job_ids)

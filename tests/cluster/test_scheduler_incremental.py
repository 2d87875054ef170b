"""Incremental cycles (docs/scheduler.md §5): no change, no work; a deep queue of alike trainings costs
what one does; the outcome is the one a full pass gives."""

from __future__ import annotations

import itertools

import pytest

from mockserver.cluster.resources import PodRequest
from mockserver.cluster.scheduler import Job, Scheduler
from mockserver.cluster.scheduler.placement import PoolIndex
from mockserver.cluster.topology import topology_from_dict

_seq = itertools.count(1)


def job(job_id: str, project: str = "a", gpus: int = 1, priority: int = 50) -> Job:
    return Job(
        id=job_id,
        project_id=project,
        pod=PodRequest(gpus=gpus),
        pods=1,
        priority=priority,
        preemptible=True,
        seq=next(_seq),
    )


def scheduler(gpus: int = 4) -> Scheduler:
    data = {
        "cluster": {"id": "c"},
        "nodePools": ["p"],
        "departments": [{"id": "d", "name": "d"}],
        "projects": [
            {"id": "a", "name": "a", "departmentId": "d", "quotas": {"p": {"gpu": {"deserved": 2}}}},
            {"id": "b", "name": "b", "departmentId": "d", "quotas": {"p": {"gpu": {"deserved": 2}}}},
        ],
        "nodes": [{"name": "n1", "pool": "p", "gpus": gpus, "gpuMemoryMiB": 40960}],
    }
    return Scheduler(topology_from_dict(data, "test"))


@pytest.fixture
def placements(monkeypatch: pytest.MonkeyPatch) -> list[PodRequest]:
    """Every placement search the scheduler makes, in order."""
    searched: list[PodRequest] = []
    find = PoolIndex.find

    def counting(self: PoolIndex, request: PodRequest, node_type: str | None) -> object:
        searched.append(request)
        return find(self, request, node_type)

    monkeypatch.setattr(PoolIndex, "find", counting)
    return searched


def test_a_cycle_after_no_change_does_nothing(placements):
    s = scheduler()
    for i in range(6):
        s.enqueue(job(f"j{i}"))
    first = s.cycle()
    assert len(first.started) == 4 and len(first.pending) == 2
    s.cycle()  # the cycle after placements looks again (started pods become possible victims)
    placements.clear()
    again = s.cycle()
    assert (again.started, again.evicted, again.pending) == ([], [], {})
    assert placements == []


def test_a_deep_queue_of_alike_trainings_costs_what_one_does(placements):
    s = scheduler()
    for i in range(5000):
        s.enqueue(job(f"j{i}"))
    first = s.cycle()
    assert first.started == ["j0", "j1", "j2", "j3"]
    # Four placements, then one failed search for the shape: the 4,995 others are passed over with it.
    assert len(placements) == 5
    assert len(first.pending) == 4996
    assert set(first.pending.values()) == {
        "Resources were not found for pod due to: no nodes with enough resources were found in node pool p: "
        "1 node(s) didn't have enough resources: GPUs"
    }
    s.cycle()
    placements.clear()
    s.release("j0")  # a release: what it can unblock is one pod
    result = s.cycle()
    assert result.started == ["j4"]
    assert result.pending == {}  # nobody's reason changed
    assert len(placements) <= 3


def test_a_submission_is_tried_even_when_nothing_else_changed(placements):
    s = scheduler()
    for i in range(10):
        s.enqueue(job(f"j{i}"))
    s.cycle()
    s.cycle()
    s.enqueue(job("other", project="b", gpus=2, priority=50))
    result = s.cycle()
    # Project b is under its deserved quota: its new job reclaims from a, which is over its own.
    assert result.started == ["other"]
    assert [e.job_id for e in result.evicted] == ["j3", "j2"]  # newest first


def test_new_and_requeued_jobs_get_their_reason_reported_once():
    s = scheduler(gpus=1)
    s.enqueue(job("runs"))
    s.enqueue(job("waits"))
    assert s.cycle().pending.keys() == {"waits"}
    assert s.cycle().pending == {}
    s.enqueue(job("also"))
    assert s.cycle().pending.keys() == {"also"}
    assert s.pending_reason("waits") == s.pending_reason("also")

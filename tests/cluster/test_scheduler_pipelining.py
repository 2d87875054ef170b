"""The scheduler's side of pipelining (docs/scheduler.md §2b): a preemptor holds its place unbound until
`unpipeline`, then the next cycle binds it; a node that goes down under it puts it back in the queue."""

from __future__ import annotations

from mockserver.cluster.reasons import Reason, ReasonCode
from mockserver.cluster.resources import PodRequest
from mockserver.cluster.scheduler import Job, Scheduler
from mockserver.cluster.topology import topology_from_dict

TOPOLOGY = {
    "cluster": {"id": "c"},
    "nodePools": ["p"],
    "departments": [{"id": "d", "name": "d", "quotas": {"p": {"gpu": {"deserved": 2}}}}],
    "projects": [{"id": "a", "name": "a", "departmentId": "d", "quotas": {"p": {"gpu": {"deserved": 2}}}}],
    "nodes": [{"name": "n0", "pool": "p", "gpus": 2, "gpuMemoryMiB": 40960}],
}


def preempted() -> Scheduler:
    s = Scheduler(topology_from_dict(TOPOLOGY, "test"), pipelining=True)
    s.enqueue(Job("low", "a", PodRequest(gpus=2), 1, priority=50, preemptible=True, seq=1))
    assert s.cycle().started == ["low"]
    s.enqueue(Job("high", "a", PodRequest(gpus=2), 1, priority=100, preemptible=False, seq=2))
    result = s.cycle()
    assert [e.job_id for e in result.evicted] == ["low"]
    assert result.started == [] and result.bound == []
    assert result.pipelined == [("high", 0, "n0", ["low"])]
    return s


def test_a_pipelined_pod_binds_in_the_cycle_after_unpipeline():
    s = preempted()
    reason = s.pending_reason("high")
    assert reason == "Pod was pipelined to node n0" and Reason.codes_of(reason) == (ReasonCode.PIPELINED,)
    assert s.pods("high") == [] and s.running_pods("high") == 0
    # It holds the devices meanwhile: the evicted job, back in the queue, cannot take them.
    s.enqueue(Job("low", "a", PodRequest(gpus=2), 1, priority=50, preemptible=True, seq=3))
    assert s.cycle().started == []
    s.unpipeline("high", 0)
    assert s.pods("high") == []  # bound by the next cycle, not by unpipeline
    result = s.cycle()
    assert result.started == ["high"] and result.bound == [("high", 0)]
    assert [p.node for p in s.pods("high")] == ["n0"] and s.pending_reason("high") is None


def test_a_node_going_down_under_a_pipelined_pod_queues_it_again():
    s = preempted()
    node = s.chaos.node("n0")
    assert node is not None
    s.chaos.set_ready(node, False)  # as cluster chaos takes a node down
    result = s.evict_node(node, "node down")
    assert result.evicted == []  # not bound: nothing to evict, it waits again
    s.unpipeline("high", 0)  # a late word about its victims changes nothing
    assert s.cycle().bound == []
    reason = s.pending_reason("high")
    assert reason is not None and ReasonCode.NO_FIT in Reason.codes_of(reason)
    s.chaos.set_ready(node, True)
    s.changed()
    assert s.cycle().bound == [("high", 0)]  # placed again by allocate once the node is back

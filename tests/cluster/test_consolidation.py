"""KAI's consolidation action (docs/scheduler.md §2a): a pod that fits nowhere because the idle GPUs are
spread over nodes gets room by moving running preemptible pods, only when every moved pod is placed again."""

from __future__ import annotations

from dataclasses import replace

from mockserver.cluster.reasons import Reason, ReasonCode
from mockserver.cluster.resources import PodRequest
from mockserver.cluster.scheduler import Job, Scheduler
from mockserver.cluster.topology import topology_from_dict
from mockserver.cluster.topology_model import Topology


def cluster(types: tuple[str | None, str | None] = (None, None)) -> Scheduler:
    nodes = []
    for i, node_type in enumerate(types):
        node: dict[str, object] = {"name": f"n{i}", "pool": "p", "gpus": 2, "gpuMemoryMiB": 40960}
        if node_type is not None:
            node["labels"] = {"run.ai/type": node_type}
        nodes.append(node)
    return Scheduler(two_projects(nodes))


def two_projects(nodes: list[dict[str, object]]) -> Topology:
    """One pool `p` of the given nodes; projects a and b deserve 2 GPUs each (department d: 4)."""
    data = {
        "cluster": {"id": "c"},
        "nodePools": ["p"],
        "departments": [{"id": "d", "name": "d", "quotas": {"p": {"gpu": {"deserved": 4}}}}],
        "projects": [
            {"id": "a", "name": "a", "departmentId": "d", "quotas": {"p": {"gpu": {"deserved": 2}}}},
            {"id": "b", "name": "b", "departmentId": "d", "quotas": {"p": {"gpu": {"deserved": 2}}}},
        ],
        "nodes": nodes,
    }
    return topology_from_dict(data, "test")


def job(job_id: str, seq: int, gpus: int = 1, **kw: object) -> Job:
    return replace(
        Job(
            id=job_id,
            project_id="a",
            pod=PodRequest(gpus=gpus),
            pods=1,
            priority=50,
            preemptible=True,
            seq=seq,
        ),
        **kw,  # type: ignore[arg-type]
    )


def node_of(s: Scheduler, job_id: str) -> str:
    (pod,) = s.pods(job_id)
    return pod.node


def fragmented(s: Scheduler, **kw: object) -> None:
    """One GPU in use on each 2-GPU node: x on n0, y on n1 (binpack filled n0 first, then two left)."""
    s.enqueue(job("x", 1, node_type=kw.get("x_type"), preemptible=kw.get("preemptible", True)))
    s.enqueue(job("fill0", 2))
    s.enqueue(job("y", 3, node_type=kw.get("y_type"), preemptible=kw.get("preemptible", True)))
    s.enqueue(job("fill1", 4))
    s.cycle()
    assert node_of(s, "x") == node_of(s, "fill0") and node_of(s, "y") == node_of(s, "fill1")
    s.release("fill0")
    s.release("fill1")
    s.cycle()
    assert {node_of(s, "x"), node_of(s, "y")} == {"n0", "n1"}


def test_a_fragmented_cluster_consolidates():
    """1 + 1 idle GPUs on two nodes, a 2-GPU job: the newest preemptible pod moves to the other node, the
    job starts on the node it left, and the move is reported with KAI's consolidation words."""
    s = cluster()
    fragmented(s)
    before_y = node_of(s, "y")
    s.enqueue(replace(job("big", 5, gpus=2), project_id="b"))
    result = s.cycle()
    assert result.started == ["big"]
    assert result.evicted == []
    assert [(j, i) for j, i, _ in result.moved] == [("y", 0)]
    message = result.moved[0][2]
    assert (
        message == "Pod was preempted and rescheduled due to bin packing (resource consolidation) procedure"
    )
    assert Reason.codes_of(message) == (ReasonCode.CONSOLIDATED,)
    assert ("y", 0) in result.bound and ("big", 0) in result.bound
    assert node_of(s, "big") == before_y
    assert node_of(s, "y") == node_of(s, "x")  # both small pods now share one node
    assert s.running_pods("y") == 1 and s.running_pods("x") == 1


def test_no_consolidation_when_a_moved_pod_would_have_nowhere_to_go():
    """Each small pod may only run on its own node (node types): moving either loses it, so nothing moves
    and the big job waits with allocate's no-fit reason."""
    s = cluster(types=("tx", "ty"))
    fragmented(s, x_type="tx", y_type="ty")
    placed = {j: node_of(s, j) for j in ("x", "y")}
    s.enqueue(replace(job("big", 5, gpus=2), project_id="b"))
    result = s.cycle()
    assert result.started == [] and result.moved == [] and result.evicted == []
    assert {j: node_of(s, j) for j in ("x", "y")} == placed
    reason = s.pending_reason("big")
    assert reason is not None and ReasonCode.NO_FIT in Reason.codes_of(reason)


def test_non_preemptible_pods_are_never_moved():
    s = cluster()
    fragmented(s, preemptible=False)
    s.enqueue(replace(job("big", 5, gpus=2), project_id="b"))
    result = s.cycle()
    assert result.started == [] and result.moved == []
    assert s.pending_reason("big") is not None


def test_a_non_preemptible_job_is_not_consolidated_for():
    """KAI's consolidation takes only preemptible pending jobs (FilterNonPreemptible)."""
    s = cluster()
    fragmented(s)
    s.enqueue(replace(job("big", 5, gpus=2), project_id="b", preemptible=False, priority=100))
    result = s.cycle()
    assert result.moved == [] and result.started == []


def test_consolidation_is_deterministic():
    def run() -> list[tuple[str, list[tuple[str, str]]]]:
        s = cluster()
        fragmented(s)
        s.enqueue(replace(job("big", 5, gpus=2), project_id="b"))
        result = s.cycle()
        return [(str(m), [(p.job_id, p.node) for p in s.pods(m[0])]) for m in result.moved] + [
            ("big", [(p.job_id, p.node) for p in s.pods("big")])
        ]

    first = run()
    assert first and all(run() == first for _ in range(3))

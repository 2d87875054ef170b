"""Scenarios from the Run:ai documentation and KAI's semantics, run against the pure scheduler."""

from __future__ import annotations

import itertools

import pytest

from mockserver.cluster.resources import PodRequest
from mockserver.cluster.scheduler import Job, Scheduler
from mockserver.cluster.topology import topology_from_dict
from mockserver.parsing.compute import pod_request_from_compute

_seq = itertools.count(1)


def cluster(
    nodes: list[dict], projects: list[dict], pools: list[str] | None = None, departments=None
) -> Scheduler:
    """A scheduler over a small topology; nodes default to pool "p" with 40 GiB GPUs."""
    pools = pools or ["p"]
    for i, node in enumerate(nodes):
        node.setdefault("name", f"n{i + 1}")
        node.setdefault("pool", pools[0])
        node.setdefault("gpuMemoryMiB", 40960)
    for project in projects:
        project.setdefault("departmentId", "d")
        project.setdefault("name", f"team-{project['id']}")
    data = {
        "cluster": {"id": "c"},
        "nodePools": pools,
        "departments": departments or [{"id": "d", "name": "dept"}],
        "projects": projects,
        "nodes": nodes,
    }
    return Scheduler(topology_from_dict(data, "test"))


def gpu_quota(deserved: float, limit: float = -1, weight: float = 1, pool: str = "p") -> dict:
    return {pool: {"gpu": {"deserved": deserved, "limit": limit, "overQuotaWeight": weight}}}


def job(
    job_id: str,
    project: str,
    gpus: int = 1,
    *,
    pod: PodRequest | None = None,
    pods: int = 1,
    priority: int = 50,
    preemptible: bool = True,
    pools: list[str] | None = None,
    node_type: str | None = None,
) -> Job:
    return Job(
        id=job_id,
        project_id=project,
        pod=pod or PodRequest(gpus=gpus),
        pods=pods,
        priority=priority,
        preemptible=preemptible,
        node_pools=pools or [],
        node_type=node_type,
        seq=next(_seq),
    )


def fraction(f: float, devices: int = 1) -> PodRequest:
    return PodRequest(gpu_fraction=f, gpu_devices=devices)


def devices_of(scheduler: Scheduler, job_id: str) -> list[tuple[str, int, float]]:
    placement = scheduler.placement(job_id)
    assert placement is not None, f"{job_id} is not placed"
    return [(pod["node"], d["index"], d["fraction"]) for pod in placement for d in pod["devices"]]


def allocated(scheduler: Scheduler, project: str, pool: str = "p") -> float:
    view = next(p for p in scheduler.snapshot()["projects"] if p["id"] == project)
    return view["nodePools"][pool]["allocated"]


# -- over-quota, reclaim, fairness ----------------------------------------------------------------------


def test_over_quota_is_reclaimed_newest_first_until_two_and_two():
    s = cluster(
        [{"gpus": 2}, {"gpus": 2}], [{"id": "a", "quotas": gpu_quota(2)}, {"id": "b", "quotas": gpu_quota(2)}]
    )
    for i in range(1, 5):
        s.enqueue(job(f"a{i}", "a"))
    assert s.cycle().started == ["a1", "a2", "a3", "a4"]
    assert allocated(s, "a") == 4

    s.enqueue(job("b1", "b"))
    s.enqueue(job("b2", "b"))
    result = s.cycle()

    assert sorted(result.started) == ["b1", "b2"]
    assert [e.job_id for e in result.evicted] == ["a4", "a3"]
    assert all("was preempted by workload b" in e.message for e in result.evicted)
    assert "Project team-a uses 4 GPUs in node pool p with a quota of 2 GPUs" in result.evicted[0].message
    assert (allocated(s, "a"), allocated(s, "b")) == (2, 2)
    # Nothing moves once both projects hold their deserved quota, even with the victims back in the queue.
    s.enqueue(job("a3", "a"))
    s.enqueue(job("a4", "a"))
    again = s.cycle()
    assert (again.started, again.evicted) == ([], [])
    assert set(again.pending) == {"a3", "a4"}


def test_over_quota_quickstart_preempts_the_newest_job_of_the_over_quota_project():
    s = cluster(
        [{"gpus": 2}, {"gpus": 2}], [{"id": "a", "quotas": gpu_quota(2)}, {"id": "b", "quotas": gpu_quota(2)}]
    )
    s.enqueue(job("a2", "a", 2))
    s.enqueue(job("a1", "a", 1))
    s.enqueue(job("b1", "b", 1))
    assert sorted(s.cycle().started) == ["a1", "a2", "b1"]

    s.enqueue(job("b2", "b", 1))
    result = s.cycle()

    assert result.started == ["b2"]
    assert [e.job_id for e in result.evicted] == ["a1"]


def test_queue_fairness_quickstart_ends_two_and_two_then_alternates():
    s = cluster([{"gpus": 4}], [{"id": "a", "quotas": gpu_quota(1)}, {"id": "b", "quotas": gpu_quota(1)}])
    for i in range(1, 5):
        s.enqueue(job(f"a{i}", "a"))
    s.cycle()
    for i in range(1, 5):
        s.enqueue(job(f"b{i}", "b"))

    result = s.cycle()

    assert result.started == ["b1", "b2"]
    assert [e.job_id for e in result.evicted] == ["a4", "a3"]
    assert (allocated(s, "a"), allocated(s, "b")) == (2, 2)
    assert "b3" in result.pending and "b4" in result.pending

    # The evicted trainings queue again; as GPUs free up they go alternately to the project that holds less.
    s.enqueue(job("a3", "a"))
    s.enqueue(job("a4", "a"))
    assert s.cycle().started == []
    s.release("a1")
    assert s.cycle().started == ["a3"]
    s.release("b1")
    assert s.cycle().started == ["b3"]
    s.release("a2")
    assert s.cycle().started == ["a4"]


def test_over_quota_is_split_by_weight_while_everyone_asks_for_more():
    s = cluster(
        [{"gpus": 8}],
        [{"id": "a", "quotas": gpu_quota(0, weight=3)}, {"id": "b", "quotas": gpu_quota(0, weight=1)}],
    )
    for i in range(8):
        s.enqueue(job(f"a{i}", "a"))
        s.enqueue(job(f"b{i}", "b"))
    s.cycle()
    fair = {p["id"]: p["nodePools"]["p"]["fairShare"] for p in s.snapshot()["projects"]}
    assert fair == {"a": 6, "b": 2}
    assert (allocated(s, "a"), allocated(s, "b")) == (6, 2)


def test_a_project_at_its_deserved_quota_keeps_its_jobs_even_if_its_department_is_over():
    s = cluster(
        [{"gpus": 4}],
        [
            {"id": "a", "departmentId": "d1", "quotas": gpu_quota(2)},
            {"id": "b", "departmentId": "d2", "quotas": gpu_quota(3)},
        ],
        departments=[
            {"id": "d1", "name": "small", "quotas": gpu_quota(1)},
            {"id": "d2", "name": "large", "quotas": gpu_quota(3)},
        ],
    )
    s.enqueue(job("a1", "a"))
    s.enqueue(job("a2", "a"))
    s.enqueue(job("b1", "b"))
    s.cycle()
    s.enqueue(job("b2", "b"))
    s.enqueue(job("b3", "b"))
    result = s.cycle()
    assert result.started == ["b2"]
    assert result.evicted == []
    assert allocated(s, "a") == 2


def test_victims_the_reclaimer_turned_out_not_to_need_keep_running():
    s = cluster(
        [{"gpus": 2}, {"gpus": 2}],
        [
            {"id": "a", "quotas": gpu_quota(0)},
            {"id": "b", "quotas": gpu_quota(2)},
            {"id": "c", "quotas": gpu_quota(1)},
        ],
    )
    s.enqueue(job("a-big", "a", 2))
    s.enqueue(job("a-small", "a", 1))
    s.enqueue(job("c1", "c", 1))
    s.cycle()
    # c1 (starved queue first) and a-small share n1; a-big holds n2.
    assert [s.placement(j)[0]["node"] for j in ("a-big", "a-small", "c1")] == ["n2", "n1", "n1"]

    s.enqueue(job("b1", "b", 2))
    result = s.cycle()

    # a-small, the newest, was evicted first, but 2 GPUs only came free on n2: it goes back where it was.
    assert result.started == ["b1"]
    assert [e.job_id for e in result.evicted] == ["a-big"]
    assert s.placement("a-small")[0]["node"] == "n1"
    assert s.placement("b1")[0]["node"] == "n2"


def test_a_project_under_its_fair_share_cannot_reclaim_beyond_it():
    s = cluster([{"gpus": 4}], [{"id": "a", "quotas": gpu_quota(1)}, {"id": "b", "quotas": gpu_quota(3)}])
    for i in range(4):
        s.enqueue(job(f"a{i}", "a"))
    s.cycle()
    s.enqueue(job("b-big", "b", 4))
    result = s.cycle()
    # b deserves 3 of 4; a 4-GPU job would take it past its fair share, so nothing is reclaimed for it.
    assert result.evicted == []
    assert "b-big" in result.pending


# -- preemption and protection --------------------------------------------------------------------------


def test_higher_priority_preempts_lower_inside_a_project():
    s = cluster([{"gpus": 2}], [{"id": "a", "quotas": gpu_quota(2)}])
    s.enqueue(job("train-1", "a", priority=50))
    s.enqueue(job("train-2", "a", priority=50))
    s.cycle()
    s.enqueue(job("build", "a", priority=100, preemptible=False))
    s.enqueue(job("train-3", "a", priority=50))
    result = s.cycle()
    assert result.started == ["build"]
    assert [(e.job_id, e.message) for e in result.evicted] == [
        ("train-2", "Pod was preempted by higher priority workload build")
    ]
    assert "train-3" in result.pending


def test_limit_is_freed_by_preempting_a_lower_priority_job_of_the_same_project():
    """KAI docs: a queue with limit 1 runs a train pod; a build pod arrives; the train pod is preempted."""
    s = cluster([{"gpus": 2}], [{"id": "a", "quotas": gpu_quota(1, limit=1)}])
    s.enqueue(job("train", "a", priority=50))
    s.cycle()
    s.enqueue(job("build", "a", priority=100, preemptible=False))
    result = s.cycle()
    assert result.started == ["build"]
    assert [e.job_id for e in result.evicted] == ["train"]


def test_equal_priority_never_preempts():
    s = cluster([{"gpus": 1}], [{"id": "a", "quotas": gpu_quota(1)}])
    s.enqueue(job("first", "a"))
    s.cycle()
    s.enqueue(job("second", "a"))
    result = s.cycle()
    assert (result.started, result.evicted) == ([], [])


def test_non_preemptible_jobs_are_never_reclaimed():
    s = cluster([{"gpus": 4}], [{"id": "a", "quotas": gpu_quota(2)}, {"id": "b", "quotas": gpu_quota(2)}])
    # Over-quota non-preemptible work cannot exist, so a holds 2 non-preemptible and 2 preemptible GPUs.
    s.enqueue(job("a-np1", "a", preemptible=False, priority=100))
    s.enqueue(job("a-np2", "a", preemptible=False, priority=100))
    s.enqueue(job("a-p1", "a"))
    s.enqueue(job("a-p2", "a"))
    assert len(s.cycle().started) == 4
    s.enqueue(job("b1", "b"))
    s.enqueue(job("b2", "b"))
    result = s.cycle()
    assert sorted(e.job_id for e in result.evicted) == ["a-p1", "a-p2"]


def test_a_non_preemptible_job_in_quota_reclaims_from_over_quota_work():
    s = cluster([{"gpus": 2}], [{"id": "a", "quotas": gpu_quota(0)}, {"id": "b", "quotas": gpu_quota(1)}])
    s.enqueue(job("a1", "a"))
    s.enqueue(job("a2", "a"))
    s.cycle()
    s.enqueue(job("build", "b", preemptible=False, priority=100))
    result = s.cycle()
    assert result.started == ["build"]
    assert [e.job_id for e in result.evicted] == ["a2"]


def test_non_preemptible_over_quota_stays_pending_with_the_kai_reason():
    s = cluster([{"gpus": 4}], [{"id": "a", "quotas": gpu_quota(1)}])
    s.enqueue(job("np1", "a", preemptible=False, priority=100))
    s.enqueue(job("np2", "a", preemptible=False, priority=100))
    result = s.cycle()
    assert result.started == ["np1"]
    assert result.pending["np2"] == (
        "Non-preemptible workload is over quota. Workload requested 1 GPUs, but Project team-a in node pool p "
        "quota is 1 GPUs, while 1 GPUs are already allocated for non-preemptible pods. Use a preemptible "
        "workload to go over quota."
    )


def test_over_limit_stays_pending_with_the_kai_reason():
    s = cluster([{"gpus": 4}], [{"id": "a", "quotas": gpu_quota(1, limit=2)}])
    s.enqueue(job("j1", "a", 2))
    s.enqueue(job("j2", "a", 1))
    result = s.cycle()
    assert result.started == ["j1"]
    assert result.pending["j2"] == (
        "Project team-a in node pool p quota has reached the allowable limit of GPUs. Limit is 2 GPUs, "
        "currently 2 GPUs allocated and workload requested 1 GPUs"
    )


def test_limit_zero_blocks_everything():
    s = cluster([{"gpus": 4}], [{"id": "a", "quotas": gpu_quota(0, limit=0)}])
    s.enqueue(job("j", "a"))
    assert "allowable limit" in s.cycle().pending["j"]


def test_department_limit_caps_its_projects():
    s = cluster(
        [{"gpus": 4}],
        [{"id": "a", "quotas": gpu_quota(1)}, {"id": "b", "quotas": gpu_quota(1)}],
        departments=[{"id": "d", "name": "research", "quotas": gpu_quota(2, limit=3)}],
    )
    for i in range(3):
        s.enqueue(job(f"a{i}", "a"))
    s.enqueue(job("b0", "b"))
    result = s.cycle()
    assert len(result.started) == 3
    assert "Department research in node pool p quota has reached the allowable limit" in next(
        iter(result.pending.values())
    )


# -- GPU sharing ----------------------------------------------------------------------------------------


def test_two_halves_share_one_device():
    s = cluster([{"gpus": 2}], [{"id": "a", "quotas": gpu_quota(2)}])
    s.enqueue(job("h1", "a", pod=fraction(0.5)))
    s.enqueue(job("h2", "a", pod=fraction(0.5)))
    s.cycle()
    assert devices_of(s, "h1") == [("n1", 0, 0.5)]
    assert devices_of(s, "h2") == [("n1", 0, 0.5)]
    device = s.snapshot()["nodes"][0]["devices"][0]
    assert device["allocated"] == 1.0 and device["holders"] == ["h1", "h2"]


def test_a_fraction_that_does_not_fit_the_shared_device_opens_a_new_one():
    s = cluster([{"gpus": 2}], [{"id": "a", "quotas": gpu_quota(2)}])
    for i in range(3):
        s.enqueue(job(f"t{i}", "a", pod=fraction(0.3)))
    s.enqueue(job("half", "a", pod=fraction(0.5)))
    s.cycle()
    assert {devices_of(s, f"t{i}")[0][1] for i in range(3)} == {0}
    assert devices_of(s, "half") == [("n1", 1, 0.5)]
    # 0.333 three times fills a device exactly: shares are counted without float drift.
    s2 = cluster([{"gpus": 1}], [{"id": "a", "quotas": gpu_quota(1)}])
    for i in range(3):
        s2.enqueue(job(f"third{i}", "a", pod=fraction(0.333)))
    assert len(s2.cycle().started) == 3


def test_fractions_pack_onto_the_fullest_shared_device():
    s = cluster([{"gpus": 2}], [{"id": "a", "quotas": gpu_quota(2)}])
    s.enqueue(job("x", "a", pod=fraction(0.5)))
    s.enqueue(job("y", "a", pod=fraction(0.6)))
    s.cycle()
    assert devices_of(s, "y") == [("n1", 1, 0.6)]
    s.enqueue(job("z", "a", pod=fraction(0.3)))
    s.cycle()
    assert devices_of(s, "z") == [("n1", 1, 0.3)]
    s.enqueue(job("w", "a", pod=fraction(0.45)))
    s.cycle()
    assert devices_of(s, "w") == [("n1", 0, 0.45)]


def test_a_whole_gpu_never_lands_on_a_shared_device():
    s = cluster([{"gpus": 2}], [{"id": "a", "quotas": gpu_quota(2)}])
    s.enqueue(job("small", "a", pod=fraction(0.1)))
    s.enqueue(job("w1", "a", 1))
    s.enqueue(job("w2", "a", 1))
    result = s.cycle()
    assert result.started == ["small", "w1"]
    assert devices_of(s, "w1") == [("n1", 1, 1.0)]
    assert result.pending["w2"].endswith("1 node(s) didn't have enough resources: GPUs")


def test_multi_device_fraction_takes_distinct_devices_on_one_node():
    s = cluster([{"gpus": 1}, {"gpus": 4}], [{"id": "a", "quotas": gpu_quota(5)}])
    s.enqueue(job("multi", "a", pod=fraction(0.5, devices=3)))
    s.cycle()
    assert devices_of(s, "multi") == [("n2", 0, 0.5), ("n2", 1, 0.5), ("n2", 2, 0.5)]
    assert allocated(s, "a") == 1.5


def test_gpu_memory_request_becomes_a_fraction_of_the_node_device():
    s = cluster([{"gpus": 1, "gpuMemoryMiB": 40960}], [{"id": "a", "quotas": gpu_quota(1)}])
    big = pod_request_from_compute({"gpuRequestType": "memory", "gpuMemoryRequest": "24Gi"})
    quarter_ish = pod_request_from_compute({"gpuRequestType": "memory", "gpuMemoryRequest": "10000Mi"})
    s.enqueue(job("m1", "a", pod=big))
    s.enqueue(job("m2", "a", pod=quarter_ish))
    s.enqueue(job("m3", "a", pod=quarter_ish))
    result = s.cycle()
    assert result.started == ["m1", "m2"]
    assert devices_of(s, "m1") == [("n1", 0, 0.6)]
    # 10000 MiB of 40960 is 0.2441..., rounded up to 0.25 GPU; a third one would need 0.85 + 0.25.
    assert devices_of(s, "m2") == [("n1", 0, 0.25)]
    assert allocated(s, "a") == 0.85
    assert "GPU memory" in result.pending["m3"]


def test_gpu_memory_fraction_depends_on_the_node_it_lands_on():
    s = cluster([{"gpus": 1, "gpuMemoryMiB": 81920}], [{"id": "a", "quotas": gpu_quota(1)}])
    s.enqueue(job("m", "a", pod=PodRequest(gpu_memory_mib=20480, gpu_devices=1)))
    s.cycle()
    assert devices_of(s, "m") == [("n1", 0, 0.25)]


# -- MIG ------------------------------------------------------------------------------------------------


def test_mig_slices_only_on_mig_nodes_and_whole_gpus_never_there():
    s = cluster(
        [{"gpus": 1}, {"gpus": 1, "migProfiles": {"1g.5gb": 2, "3g.20gb": 1}}],
        [{"id": "a", "quotas": gpu_quota(6)}],
    )
    s.enqueue(job("mig1", "a", pod=PodRequest(mig_profile="1g.5gb")))
    s.enqueue(job("mig2", "a", pod=PodRequest(mig_profile="1g.5gb")))
    s.enqueue(job("mig3", "a", pod=PodRequest(mig_profile="1g.5gb")))
    s.enqueue(job("big-slice", "a", pod=PodRequest(mig_profile="3g.20gb")))
    s.enqueue(job("whole1", "a", 1))
    s.enqueue(job("whole2", "a", 1))
    result = s.cycle()
    assert sorted(result.started) == ["big-slice", "mig1", "mig2", "whole1"]
    assert s.placement("mig1") == [{"node": "n2", "pool": "p", "devices": [], "migProfile": "1g.5gb"}]
    assert s.placement("whole1")[0]["node"] == "n1"
    assert "mig profile: 1g.5gb" in result.pending["mig3"]
    assert "offer only MIG slices" in result.pending["whole2"]
    # A 3g slice counts as 3 GPUs in the quota.
    assert allocated(s, "a") == 1 + 1 + 1 + 3
    assert s.snapshot()["nodes"][1]["mig"] == {
        "1g.5gb": {"capacity": 2, "used": 2},
        "3g.20gb": {"capacity": 1, "used": 1},
    }


def test_mig_request_without_mig_nodes_is_pending():
    s = cluster([{"gpus": 4}], [{"id": "a", "quotas": gpu_quota(4)}])
    s.enqueue(job("mig", "a", pod=PodRequest(mig_profile="1g.5gb")))
    assert "didn't offer mig profile: 1g.5gb" in s.cycle().pending["mig"]


# -- node pools, node types, other resources -------------------------------------------------------------


def test_node_pools_are_tried_in_order():
    s = cluster(
        [{"gpus": 1, "pool": "a"}, {"gpus": 2, "pool": "b"}],
        [{"id": "x", "quotas": {**gpu_quota(1, pool="a"), **gpu_quota(2, pool="b")}}],
        pools=["a", "b"],
    )
    s.enqueue(job("first", "x", pools=["b", "a"]))
    s.enqueue(job("second", "x", pools=["a", "b"]))
    s.enqueue(job("third", "x", pools=["a", "b"]))
    s.enqueue(job("fourth", "x", pools=["a", "b"]))
    result = s.cycle()
    assert {j: s.placement(j)[0]["pool"] for j in result.started} == {
        "first": "b",
        "second": "a",
        "third": "b",
    }
    reason = result.pending["fourth"]
    assert "in node pool a" in reason and "in node pool b" in reason


def test_a_later_pool_with_room_is_used_before_reclaiming_in_the_first():
    s = cluster(
        [{"gpus": 1, "pool": "a"}, {"gpus": 1, "pool": "b"}],
        [{"id": "x", "quotas": gpu_quota(0, pool="a")}, {"id": "y", "quotas": gpu_quota(1, pool="a")}],
        pools=["a", "b"],
    )
    s.enqueue(job("x1", "x", pools=["a"]))
    s.cycle()
    s.enqueue(job("y1", "y", pools=["a", "b"]))
    result = s.cycle()
    assert (result.started, result.evicted) == (["y1"], [])
    assert s.placement("y1")[0]["pool"] == "b"
    # With no room anywhere, reclaim runs in the preferred pool.
    s.enqueue(job("y2", "y", pools=["a", "b"]))
    result = s.cycle()
    assert result.started == ["y2"] and [e.job_id for e in result.evicted] == ["x1"]
    assert s.placement("y2")[0]["pool"] == "a"


def test_jobs_without_node_pools_use_the_project_defaults_then_topology_order():
    s = cluster(
        [{"gpus": 1, "pool": "a"}, {"gpus": 1, "pool": "b"}],
        [{"id": "x", "defaultNodePools": ["b"]}, {"id": "y"}],
        pools=["a", "b"],
    )
    s.enqueue(job("x1", "x"))
    s.enqueue(job("y1", "y"))
    s.enqueue(job("x2", "x"))
    result = s.cycle()
    assert s.placement("x1")[0]["pool"] == "b"
    assert s.placement("y1")[0]["pool"] == "a"
    assert "in node pool b" in result.pending["x2"] and "node pool a" not in result.pending["x2"]


def test_node_type_must_match_the_node_label():
    s = cluster(
        [{"gpus": 4}, {"gpus": 1, "labels": {"run.ai/type": "fast"}}],
        [{"id": "a", "quotas": gpu_quota(5)}],
    )
    s.enqueue(job("typed", "a", node_type="fast"))
    s.enqueue(job("typed2", "a", node_type="fast"))
    result = s.cycle()
    assert s.placement("typed")[0]["node"] == "n2"
    assert "1 node(s) didn't match the node type fast" in result.pending["typed2"]


def test_extended_resources_cpu_and_memory_are_fit_checks():
    s = cluster(
        [{"gpus": 8, "cpuMillis": 4000, "memoryMiB": 8192, "extendedResources": {"vendor.example/foo": 4}}],
        [{"id": "a", "quotas": gpu_quota(8)}],
    )
    foo = PodRequest(gpus=1, extended=(("vendor.example/foo", 2.0),))
    s.enqueue(job("f1", "a", pod=foo))
    s.enqueue(job("f2", "a", pod=foo))
    s.enqueue(job("f3", "a", pod=foo))
    s.enqueue(job("cpu-hog", "a", pod=PodRequest(gpus=1, cpu_millis=5000)))
    s.enqueue(job("mem-hog", "a", pod=PodRequest(gpus=1, memory_mib=9000)))
    result = s.cycle()
    assert result.started == ["f1", "f2"]
    assert "didn't have enough resources: vendor.example/foo" in result.pending["f3"]
    assert "didn't have enough resources: CPU cores" in result.pending["cpu-hog"]
    assert "didn't have enough resources: memory" in result.pending["mem-hog"]
    assert s.snapshot()["nodes"][0]["extendedResources"] == {
        "vendor.example/foo": {"capacity": 4, "used": 4.0}
    }


def test_bin_packing_prefers_the_fullest_node():
    s = cluster([{"gpus": 4}, {"gpus": 4}], [{"id": "a", "quotas": gpu_quota(8)}])
    s.enqueue(job("three", "a", 3))
    s.cycle()
    s.enqueue(job("one", "a", 1))
    s.enqueue(job("two", "a", 2))
    s.cycle()
    assert s.placement("one")[0]["node"] == "n1"
    assert s.placement("two")[0]["node"] == "n2"


def test_cpu_only_pods_prefer_cpu_only_nodes():
    s = cluster([{"gpus": 2}, {"gpus": 0, "cpuMillis": 8000}], [{"id": "a"}])
    s.enqueue(job("cpu", "a", pod=PodRequest(cpu_millis=1000)))
    s.cycle()
    assert s.placement("cpu")[0]["node"] == "n2"


def test_parallel_pods_are_placed_each_on_its_own():
    """KAI schedules the pods of an HPO job (parallelism > 1) independently: no gang."""
    s = cluster([{"gpus": 1}, {"gpus": 1}], [{"id": "a", "quotas": gpu_quota(2)}])
    s.enqueue(job("hpo3", "a", pods=3))
    s.enqueue(job("later", "a"))
    result = s.cycle()
    assert result.started == ["hpo3"]
    assert (s.requested_pods("hpo3"), s.running_pods("hpo3")) == (3, 2)
    assert [(p.index, p.node) for p in s.pods("hpo3")] == [(0, "n1"), (1, "n2")]
    assert s.pending_reason("hpo3").startswith("Resources were not found for pod")
    assert "hpo3" not in result.pending  # it runs: only jobs with nothing running are pending
    assert result.pending["later"].startswith("Resources were not found for pod")


# -- bookkeeping ----------------------------------------------------------------------------------------


def test_release_frees_and_unknown_ids_are_ignored():
    s = cluster([{"gpus": 1}], [{"id": "a", "quotas": gpu_quota(1)}])
    s.enqueue(job("j1", "a"))
    s.enqueue(job("j2", "a"))
    s.cycle()
    s.release("nobody")
    s.release("j1")
    assert s.placement("j1") is None
    assert s.cycle().started == ["j2"]


def test_enqueue_of_a_known_job_replaces_it():
    s = cluster([{"gpus": 2}], [{"id": "a", "quotas": gpu_quota(2)}])
    s.enqueue(job("j", "a", 2))
    s.cycle()
    s.enqueue(job("j", "a", 1))
    assert allocated(s, "a") == 0
    s.cycle()
    assert allocated(s, "a") == 1


def test_unknown_project_or_pool_is_pending_with_a_reason():
    s = cluster([{"gpus": 1}], [{"id": "a"}])
    s.enqueue(job("lost", "zzz"))
    s.enqueue(job("nowhere", "a", pools=["missing"]))
    pending = s.cycle().pending
    assert pending["lost"] == "Project zzz does not exist in this cluster"
    assert pending["nowhere"] == "None of the node pools missing exists in this cluster"


@pytest.mark.parametrize("repeat", [2])
def test_same_calls_give_the_same_results(repeat):
    def run() -> list:
        global _seq
        _seq = itertools.count(1)
        s = cluster(
            [{"gpus": 2}, {"gpus": 2}],
            [{"id": "a", "quotas": gpu_quota(1)}, {"id": "b", "quotas": gpu_quota(3)}],
        )
        out = []
        for i in range(5):
            s.enqueue(job(f"a{i}", "a", pod=fraction(0.5) if i % 2 else None))
        out.append(s.cycle())
        for i in range(3):
            s.enqueue(job(f"b{i}", "b"))
        out.append(s.cycle())
        out.append(s.snapshot())
        return out

    results = [run() for _ in range(repeat)]
    assert all(r == results[0] for r in results)

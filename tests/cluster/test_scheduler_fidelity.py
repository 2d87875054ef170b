"""Issue 10 scenarios with the references' numbers: department over-quota, MIG in pool totals, placement
strategies, independent pods of a parallel job."""

from __future__ import annotations

import itertools

import pytest

from mockserver.cluster.errors import ConfigError
from mockserver.cluster.resources import PodRequest
from mockserver.cluster.scheduler import Job, Scheduler
from mockserver.cluster.topology import Placement, topology_from_dict

_seq = itertools.count(1)


def job(job_id: str, project: str, pod: PodRequest | None = None, **kw: object) -> Job:
    return Job(
        id=job_id,
        project_id=project,
        pod=pod or PodRequest(gpus=1),
        pods=int(kw.get("pods", 1)),  # type: ignore[call-overload]
        priority=int(kw.get("priority", 50)),  # type: ignore[call-overload]
        preemptible=bool(kw.get("preemptible", True)),
        seq=next(_seq),
    )


def settle(s: Scheduler, jobs: dict[str, Job], cycles: int = 40) -> None:
    """Cycle until nothing moves; evicted jobs come straight back, as the lifecycle re-queues them."""
    for _ in range(cycles):
        result = s.cycle()
        if not result.started and not result.evicted:
            return
        for eviction in result.evicted:
            s.enqueue(jobs[eviction.job_id])
    raise AssertionError("no fixed point")


def views(s: Scheduler, kind: str, pool: str = "p") -> dict[str, dict[str, float]]:
    return {q["id"]: q["nodePools"][pool] for q in s.snapshot()[kind]}


# -- 1. department over-quota --------------------------------------------------------------------------


def two_departments(rule: str | None) -> dict[str, object]:
    data: dict[str, object] = {
        "cluster": {"id": "c"},
        "nodePools": ["p"],
        "departments": [
            {"id": "big", "name": "big", "quotas": {"p": {"gpu": {"deserved": 6}}}},
            {"id": "small", "name": "small", "quotas": {"p": {"gpu": {"deserved": 2}}}},
        ],
        "projects": [
            {"id": "a", "name": "a", "departmentId": "big", "quotas": {"p": {"gpu": {"deserved": 6}}}},
            {"id": "b", "name": "b", "departmentId": "small", "quotas": {"p": {"gpu": {"deserved": 2}}}},
        ],
        "nodes": [{"name": f"n{i}", "pool": "p", "gpus": 8, "gpuMemoryMiB": 40960} for i in range(2)],
    }
    if rule is not None:
        data["scheduler"] = {"departmentOverQuota": rule}
    return data


@pytest.mark.parametrize(
    ("rule", "expected"), [(None, (12, 4)), ("proportional", (12, 4)), ("weight", (10, 6))]
)
def test_departments_split_over_quota_in_proportion_to_their_quota(rule, expected):
    """Run:ai: "Departments' over quota is always proportional to its quota": deserved 6 and 2 on 16 GPUs,
    both saturated, give 12 / 4 (the department weights of 1 alone would give 10 / 6)."""
    s = Scheduler(topology_from_dict(two_departments(rule), "test"))
    jobs = {f"{p}{i}": job(f"{p}{i}", p) for p in "ab" for i in range(16)}
    for j in jobs.values():
        s.enqueue(j)
    settle(s, jobs)
    departments = views(s, "departments")
    assert (departments["big"]["fairShare"], departments["small"]["fairShare"]) == expected
    assert (departments["big"]["allocated"], departments["small"]["allocated"]) == expected


def test_an_unknown_department_rule_is_refused_with_its_path():
    with pytest.raises(
        ConfigError, match=r"scheduler\.departmentOverQuota: must be one of proportional, weight"
    ):
        topology_from_dict(two_departments("equal"), "test.yaml")


# -- 2. MIG in the pool's totals -----------------------------------------------------------------------


def mig_cluster() -> Scheduler:
    data = {
        "cluster": {"id": "c"},
        "nodePools": ["p"],
        "departments": [{"id": "d", "name": "d"}],
        "projects": [
            {"id": "a", "name": "a", "departmentId": "d"},
            {"id": "b", "name": "b", "departmentId": "d"},
        ],
        "nodes": [
            {"name": "n1", "pool": "p", "gpus": 2, "gpuMemoryMiB": 40960},
            # One A100 cut into seven 1g.5gb slices and one into 2g.10gb, 2g.10gb, 3g.20gb.
            {
                "name": "mig",
                "pool": "p",
                "gpus": 2,
                "gpuMemoryMiB": 40960,
                "migProfiles": {"1g.5gb": 7, "2g.10gb": 2, "3g.20gb": 1},
            },
        ],
    }
    return Scheduler(topology_from_dict(data, "test"))


def test_a_mig_node_counts_by_its_slices_so_totals_and_charges_share_one_unit():
    s = mig_cluster()
    # 2 whole GPUs + 7 x 1g + 2 x 2g + 1 x 3g = 16 units, as KAI counts a MIG node (not its 2 devices).
    assert s.pool_total("p").gpu == 16
    jobs = {f"m{i}": job(f"m{i}", "a", PodRequest(mig_profile="1g.5gb")) for i in range(7)}
    jobs |= {f"t{i}": job(f"t{i}", "a", PodRequest(mig_profile="2g.10gb")) for i in range(2)}
    jobs["x"] = job("x", "a", PodRequest(mig_profile="3g.20gb"))
    jobs |= {f"w{i}": job(f"w{i}", "b", PodRequest(gpus=1)) for i in range(4)}
    for j in jobs.values():
        s.enqueue(j)
    settle(s, jobs)
    projects = views(s, "projects")
    assert projects["a"]["allocated"] == 14  # every slice placed, each charged by its leading g
    assert projects["b"]["allocated"] == 2
    # Both saturated: the fair shares divide exactly the 16 units the pool can charge.
    assert projects["a"]["fairShare"] + projects["b"]["fairShare"] == 16


# -- 4. placement strategy ------------------------------------------------------------------------------


def strategy_cluster(gpu: str | None = None, cpu: str | None = None) -> Scheduler:
    pool: object = "p"
    if gpu or cpu:
        pool = {"name": "p", "placementStrategy": {k: v for k, v in (("gpu", gpu), ("cpu", cpu)) if v}}
    data = {
        "cluster": {"id": "c"},
        "nodePools": [pool],
        "departments": [{"id": "d", "name": "d"}],
        "projects": [{"id": "a", "name": "a", "departmentId": "d"}],
        "nodes": [
            {"name": "n1", "pool": "p", "gpus": 4, "gpuMemoryMiB": 40960},
            {"name": "n2", "pool": "p", "gpus": 4, "gpuMemoryMiB": 40960},
            {"name": "c1", "pool": "p", "gpus": 0, "cpuMillis": 8000},
            {"name": "c2", "pool": "p", "gpus": 0, "cpuMillis": 8000},
        ],
    }
    return Scheduler(topology_from_dict(data, "test"))


def placed(s: Scheduler, job_id: str) -> list[tuple[str, int, float]]:
    return [(p.node, d.index, d.fraction) for p in s.pods(job_id) for d in p.devices] or [
        (p.node, -1, 0.0) for p in s.pods(job_id)
    ]


def run_all(s: Scheduler, jobs: list[Job]) -> None:
    for j in jobs:
        s.enqueue(j)
    s.cycle()


def test_binpack_is_the_default_and_fills_one_node_first():
    s = strategy_cluster()
    run_all(s, [job("g1", "a"), job("g2", "a"), job("f1", "a", PodRequest(gpu_fraction=0.5, gpu_devices=1))])
    run_all(s, [job("f2", "a", PodRequest(gpu_fraction=0.5, gpu_devices=1))])
    assert [placed(s, j)[0][0] for j in ("g1", "g2")] == ["n1", "n1"]
    assert placed(s, "f1")[0][:2] == placed(s, "f2")[0][:2]  # the two halves share one device


def test_spread_puts_whole_gpus_on_the_emptiest_node_and_fractions_on_untouched_devices():
    s = strategy_cluster(gpu="spread")
    run_all(s, [job("g1", "a"), job("g2", "a")])
    assert [placed(s, j)[0][0] for j in ("g1", "g2")] == ["n1", "n2"]
    run_all(s, [job("f1", "a", PodRequest(gpu_fraction=0.5, gpu_devices=1))])
    run_all(s, [job("f2", "a", PodRequest(gpu_fraction=0.5, gpu_devices=1))])
    f1, f2 = placed(s, "f1")[0], placed(s, "f2")[0]
    assert f1[:2] != f2[:2]  # a fresh device rather than half of a shared one
    assert {f1[0], f2[0]} == {"n1", "n2"}


def test_cpu_spread_is_separate_from_gpu_placement():
    s = strategy_cluster(cpu="spread")
    run_all(s, [job("c1", "a", PodRequest(cpu_millis=1000)), job("c2", "a", PodRequest(cpu_millis=1000))])
    run_all(s, [job("g1", "a"), job("g2", "a")])
    assert {s.pods("c1")[0].node, s.pods("c2")[0].node} == {"c1", "c2"}
    assert [s.pods(j)[0].node for j in ("g1", "g2")] == ["n1", "n1"]  # GPUs still bin-pack
    packed = strategy_cluster()
    run_all(
        packed, [job("c1", "a", PodRequest(cpu_millis=1000)), job("c2", "a", PodRequest(cpu_millis=1000))]
    )
    assert packed.pods("c1")[0].node == packed.pods("c2")[0].node


def test_placement_strategy_config_is_read_and_checked():
    data = {
        "cluster": {"id": "c"},
        "nodePools": ["a", {"name": "b", "placementStrategy": {"gpu": "spread"}}],
        "departments": [{"id": "d", "name": "d"}],
        "projects": [{"id": "p", "name": "p", "departmentId": "d"}],
    }
    topology = topology_from_dict(data, "t.yaml")
    assert topology.node_pools == ["a", "b"]
    assert topology.placement_of("a").gpu is Placement.BINPACK
    assert (topology.placement_of("b").gpu, topology.placement_of("b").cpu) == (
        Placement.SPREAD,
        Placement.BINPACK,
    )
    data["nodePools"] = [{"name": "b", "placementStrategy": {"gpu": "random"}}]
    with pytest.raises(
        ConfigError, match=r"nodePools\[0\]\.placementStrategy\.gpu: must be one of binpack, spread"
    ):
        topology_from_dict(data, "t.yaml")
    data["nodePools"] = [{"name": "b", "placementStrategy": {"disk": "spread"}}]
    with pytest.raises(ConfigError, match=r"placementStrategy\.disk: unknown key"):
        topology_from_dict(data, "t.yaml")


# -- 7. parallel pods, each on its own ------------------------------------------------------------------


def one_pool(gpus: int, projects: list[dict[str, object]]) -> Scheduler:
    data = {
        "cluster": {"id": "c"},
        "nodePools": ["p"],
        "departments": [{"id": "d", "name": "d"}],
        "projects": [{"name": f"team-{p['id']}", "departmentId": "d", **p} for p in projects],
        "nodes": [{"name": "n1", "pool": "p", "gpus": gpus, "gpuMemoryMiB": 40960}],
    }
    return Scheduler(topology_from_dict(data, "test"))


def test_a_preempted_pod_waits_again_while_its_job_keeps_running():
    s = one_pool(2, [{"id": "a", "quotas": {"p": {"gpu": {"deserved": 2}}}}])
    s.enqueue(job("hpo", "a", pods=2, priority=40))
    assert s.cycle().started == ["hpo"]
    s.enqueue(job("urgent", "a", priority=80))
    result = s.cycle()
    assert result.started == ["urgent"]
    assert result.evicted == []  # the job still runs a pod: not evicted as a whole
    assert (s.running_pods("hpo"), s.requested_pods("hpo")) == (1, 2)
    assert [p.index for p in s.pods("hpo")] == [0]  # the newest pod went first
    assert s.pending_reason("hpo") is not None
    view = next(j for j in s.snapshot()["jobs"] if j["id"] == "hpo")
    assert (view["requestedPods"], view["runningPods"], len(view["pods"])) == (2, 1, 1)
    assert view["pendingReason"] == s.pending_reason("hpo")
    s.release("urgent")
    assert s.cycle().started == []  # not a first start: the job was running all along
    assert s.running_pods("hpo") == 2


def test_a_job_that_loses_its_last_pod_is_evicted_whole():
    s = one_pool(2, [{"id": "a", "quotas": {"p": {"gpu": {"deserved": 2}}}}])
    s.enqueue(job("hpo", "a", pods=3, priority=40))
    s.cycle()
    assert (s.running_pods("hpo"), s.requested_pods("hpo")) == (2, 3)
    s.enqueue(job("big", "a", PodRequest(gpus=2), priority=80))
    result = s.cycle()
    assert [e.job_id for e in result.evicted] == ["hpo"]
    assert result.started == ["big"]
    assert s.requested_pods("hpo") == 0 and s.pods("hpo") == []  # gone, pending pod included

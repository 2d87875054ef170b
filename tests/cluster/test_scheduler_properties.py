"""Property tests: the invariants of docs/scheduler.md §7 over random small clusters and call sequences."""

from __future__ import annotations

import re
from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.cluster.resources import PodRequest
from mockserver.cluster.scheduler import CycleResult, Job, Scheduler
from mockserver.cluster.topology import Topology, topology_from_dict

EPS = 1e-6
PROFILES = {"1g.5gb": 1, "2g.10gb": 2}
SETTINGS = settings(max_examples=120, deadline=None, derandomize=True)


@st.composite
def topologies(draw) -> Topology:
    pools = ["p0", "p1"][: draw(st.integers(1, 2))]
    nodes = []
    for i in range(draw(st.integers(1, 4))):
        node = {
            "name": f"n{i}",
            "pool": draw(st.sampled_from(pools)),
            "gpus": draw(st.sampled_from([0, 2, 2, 4, 4])),
            "gpuMemoryMiB": draw(st.sampled_from([40960, 81920])),
            "cpuMillis": draw(st.sampled_from([4000, 32000])),
            "memoryMiB": draw(st.sampled_from([8192, 131072])),
            "extendedResources": {"x.example/foo": draw(st.integers(0, 3))},
        }
        if draw(st.integers(0, 2)) == 0:
            node["labels"] = {"run.ai/type": "t1"}
        if node["gpus"] and draw(st.integers(0, 4)) == 0:
            node["migProfiles"] = {"1g.5gb": draw(st.integers(1, 4)), "2g.10gb": draw(st.integers(0, 2))}
        nodes.append(node)
    departments = [{"id": f"d{i}", "name": f"dept-{i}"} for i in range(draw(st.integers(1, 2)))]
    projects = []
    for i in range(draw(st.integers(2, 4))):
        quotas = {}
        for pool in pools:
            deserved = draw(st.integers(0, 3))
            limit = draw(st.sampled_from([-1, -1, deserved, deserved + 2]))
            quotas[pool] = {
                "gpu": {"deserved": deserved, "limit": limit, "overQuotaWeight": draw(st.integers(0, 3))}
            }
        projects.append(
            {
                "id": f"q{i}",
                "name": f"team-{i}",
                "departmentId": draw(st.sampled_from(departments))["id"],
                "quotas": quotas,
            }
        )
    data = {
        "cluster": {"id": "c"},
        "nodePools": pools,
        "departments": departments,
        "projects": projects,
        "nodes": nodes,
    }
    return topology_from_dict(data, "hypothesis")


@st.composite
def pod_requests(draw) -> PodRequest:
    kind = draw(st.sampled_from(["whole", "whole", "whole", "fraction", "fraction", "memory", "mig", "cpu"]))
    extra = {
        "cpu_millis": draw(st.sampled_from([0, 0, 500, 3000])),
        "memory_mib": draw(st.sampled_from([0, 0, 1024, 6000])),
        "extended": (("x.example/foo", 1.0),) if draw(st.integers(0, 4)) == 0 else (),
    }
    if kind == "whole":
        return PodRequest(gpus=draw(st.integers(1, 2)), **extra)
    if kind == "fraction":
        return PodRequest(
            gpu_fraction=draw(st.sampled_from([0.25, 0.3, 0.5, 0.75])),
            gpu_devices=draw(st.integers(1, 2)),
            **extra,
        )
    if kind == "memory":
        return PodRequest(
            gpu_memory_mib=draw(st.sampled_from([10240.0, 20480.0, 50000.0])), gpu_devices=1, **extra
        )
    if kind == "mig":
        return PodRequest(mig_profile=draw(st.sampled_from(sorted(PROFILES))), **extra)
    return PodRequest(cpu_millis=draw(st.sampled_from([500, 3000])), memory_mib=1024)


def jobs(topology: Topology, count: tuple[int, int]) -> st.SearchStrategy[list[Job]]:
    @st.composite
    def one(draw, seq: int) -> Job:
        priority = draw(st.sampled_from([25, 50, 75, 100, 125, 150]))
        pools = draw(
            st.sampled_from(
                [[], topology.node_pools, list(reversed(topology.node_pools)), topology.node_pools[:1]]
            )
        )
        return Job(
            id=f"j{seq}",
            project_id=draw(st.sampled_from(sorted(topology.projects))),
            pod=draw(pod_requests()),
            pods=draw(st.sampled_from([1, 1, 1, 2])),
            priority=priority,
            preemptible=priority < 100,
            node_pools=pools,
            node_type=draw(st.sampled_from([None, None, None, "t1"])),
            seq=seq,
        )

    return st.integers(*count).flatmap(lambda n: st.tuples(*(one(i) for i in range(n))).map(list))


@st.composite
def scenarios(draw) -> tuple[Topology, list[tuple]]:
    topology = draw(topologies())
    pool = draw(jobs(topology, (3, 16)))
    ops: list[tuple] = []
    for job in pool:
        ops.append(("enqueue", job))
        for _ in range(draw(st.integers(0, 2))):
            ops.append(
                draw(
                    st.sampled_from(
                        [("cycle",), ("cycle",), ("requeue",), ("release", draw(st.sampled_from(pool)).id)]
                    )
                )
            )
    ops += [("requeue",), ("cycle",), ("cycle",)]
    return topology, ops


def run(
    topology: Topology, ops: list[tuple], check=None, scheduler_type: type[Scheduler] = Scheduler
) -> list:
    """Apply the calls; evicted jobs wait outside until a "requeue", as the lead's lifecycle does."""
    scheduler = scheduler_type(topology)
    known: dict[str, Job] = {}
    evicted: list[str] = []
    trace: list = []
    for op in ops:
        if op[0] == "enqueue":
            known[op[1].id] = op[1]
            scheduler.enqueue(op[1])
        elif op[0] == "release":
            scheduler.release(op[1])
            known.pop(op[1], None)
        elif op[0] == "requeue":
            for job_id in evicted:
                if job_id in known:
                    scheduler.enqueue(known[job_id])
            evicted = []
        else:
            before = {j["id"] for j in scheduler.snapshot()["jobs"] if j["pods"]}
            result = scheduler.cycle()
            evicted += [e.job_id for e in result.evicted]
            trace.append(result)
            if check:
                check(topology, scheduler, known, result, before)
    trace.append(scheduler.snapshot())
    return trace


def check_invariants(
    topology: Topology,
    scheduler: Scheduler,
    known: dict[str, Job],
    result: CycleResult,
    placed_before: set[str],
    pods_lost: bool = False,
) -> None:
    """`pods_lost`: a job that runs on lost a pod to an eviction in this cycle (not a job eviction, so not
    in `result.evicted`); the room it left is the next cycle's, so work conservation is not judged."""
    snapshot = scheduler.snapshot()
    nodes = {n.name: n for n in topology.nodes}
    device_use: dict[tuple[str, int], list[tuple[str, float, bool]]] = defaultdict(list)
    node_use: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    gpu_by_queue: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for view in snapshot["jobs"]:
        job = known[view["id"]]
        if not view["pods"]:
            continue
        assert len(view["pods"]) <= max(1, job.pods) and view["runningPods"] == len(view["pods"])
        candidates = (
            job.node_pools or topology.projects[job.project_id].default_node_pools or topology.node_pools
        )
        for pod in view["pods"]:
            node = nodes[pod["node"]]
            assert pod["pool"] == node.pool and node.pool in candidates  # 4
            if job.node_type:
                assert node.labels.get("run.ai/type") == job.node_type
            req = job.pod
            indexes = [d["index"] for d in pod["devices"]]
            assert len(set(indexes)) == len(indexes)
            if req.mig_profile:
                assert pod["migProfile"] == req.mig_profile and req.mig_profile in node.mig_profiles  # 3
                node_use[node.name]["mig:" + req.mig_profile] += 1
                charge = PROFILES[req.mig_profile]
            else:
                assert pod["migProfile"] is None
                if req.gpus or req.is_shared:
                    assert not node.mig_profiles  # 3: mixed MIG nodes take MIG requests only
                assert len(indexes) == (req.gpus or req.gpu_devices if req.uses_gpu else 0)
                charge = sum(d["fraction"] for d in pod["devices"])
            for d in pod["devices"]:
                device_use[node.name, d["index"]].append((job.id, d["fraction"], bool(req.gpus)))
            node_use[node.name]["cpu"] += req.cpu_millis
            node_use[node.name]["memory"] += req.memory_mib
            for name, amount in req.extended:
                node_use[node.name][name] += amount
            use = gpu_by_queue[job.project_id, pod["pool"]]
            use[0] += charge
            if not job.preemptible:
                use[1] += charge
    for holders in device_use.values():
        assert sum(f for _, f, _ in holders) <= 1 + EPS  # 1
        if any(whole for _, _, whole in holders):
            assert len(holders) == 1  # 2
    for node_name, use in node_use.items():
        node = nodes[node_name]
        assert use["cpu"] <= node.cpu_millis and use["memory"] <= node.memory_mib + EPS  # 4
        assert use["x.example/foo"] <= node.extended.get("x.example/foo", 0) + EPS
        for profile, capacity in node.mig_profiles.items():
            assert use["mig:" + profile] <= capacity
    by_dept: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for project in snapshot["projects"]:
        for pool, view in project["nodePools"].items():
            allocated, allocated_np = gpu_by_queue[project["id"], pool]
            assert abs(view["allocated"] - allocated) < EPS
            assert view["limit"] == -1 or allocated <= view["limit"] + EPS  # 5
            assert allocated_np <= view["deserved"] + EPS  # 6
            by_dept[project["departmentId"], pool][0] += allocated
            by_dept[project["departmentId"], pool][1] += allocated_np
    for department in snapshot["departments"]:
        for pool, view in department["nodePools"].items():
            allocated, allocated_np = by_dept[department["id"], pool]
            assert view["limit"] == -1 or allocated <= view["limit"] + EPS
            assert allocated_np <= view["deserved"] + EPS

    check_one_unit(topology, scheduler, snapshot)

    assert not set(result.started) & {e.job_id for e in result.evicted}
    for eviction in result.evicted:
        victim = known[eviction.job_id]
        assert victim.preemptible and victim.id in placed_before  # 7
        preemptor = re.match(r"Pod was preempted by higher priority workload (\S+)$", eviction.message)
        if preemptor:
            by = known[preemptor.group(1)]
            assert by.project_id == victim.project_id and by.priority > victim.priority  # 8
            continue
        reclaim = re.match(
            r"Pod was preempted by workload (\S+)\. .* uses (\S+) GPUs .* quota of (\S+) GPUs",
            eviction.message,
        )
        assert reclaim, eviction.message
        assert known[reclaim.group(1)].project_id != victim.project_id  # 9
        assert float(reclaim.group(2)) > float(
            reclaim.group(3)
        )  # 10: never from a project at or below deserved

    if not result.evicted and not pods_lost:
        check_work_conserving(topology, snapshot, known)


def check_one_unit(topology: Topology, scheduler: Scheduler, snapshot: dict) -> None:
    """13: charges and pool totals share one unit (a MIG slice counts its g in both), so what the projects
    hold never exceeds the pool, and the departments' fair shares divide at most the pool."""
    for pool in topology.node_pools:
        total = scheduler.pool_total(pool).gpu
        held = sum(p["nodePools"][pool]["allocated"] for p in snapshot["projects"])
        assert held <= total + EPS
        departments = [q for (_, p), q in scheduler._state.departments.items() if p == pool]
        guaranteed = sum(
            min(q.deserved.gpu if q.deserved.gpu >= 0 else total, q.request.gpu) for q in departments
        )
        if guaranteed <= total + EPS:
            assert sum(q.fair_share.gpu for q in departments) <= total + EPS


def check_work_conserving(topology: Topology, snapshot: dict, known: dict[str, Job]) -> None:
    """19: no pending single-pod whole-GPU job fits the idle resources of a node it may use."""
    projects = {p["id"]: p for p in snapshot["projects"]}
    departments = {d["id"]: d for d in snapshot["departments"]}
    for view in snapshot["jobs"]:
        job = known[view["id"]]
        if view["pods"] or job.pods != 1 or not job.pod.gpus:
            continue
        project = projects[job.project_id]
        candidates = (
            job.node_pools or topology.projects[job.project_id].default_node_pools or topology.node_pools
        )
        for pool in candidates:
            quota_blocked = False
            for queue in (
                project["nodePools"][pool],
                departments[project["departmentId"]]["nodePools"][pool],
            ):
                if queue["limit"] != -1 and queue["allocated"] + job.pod.gpus > queue["limit"] + EPS:
                    quota_blocked = True
                if (
                    not job.preemptible
                    and queue["allocatedNonPreemptible"] + job.pod.gpus > queue["deserved"] + EPS
                ):
                    quota_blocked = True
            if quota_blocked:
                continue
            for node in snapshot["nodes"]:
                if node["pool"] != pool or node["mig"]:
                    continue
                if job.node_type and node["labels"].get("run.ai/type") != job.node_type:
                    continue
                idle = sum(1 for d in node["devices"] if d["allocated"] == 0)
                free_cpu = node["cpuMillis"] - node["cpuMillisUsed"]
                free_memory = node["memoryMiB"] - node["memoryMiBUsed"]
                free_ext = {k: v["capacity"] - v["used"] for k, v in node["extendedResources"].items()}
                fits = (
                    idle >= job.pod.gpus
                    and job.pod.cpu_millis <= free_cpu
                    and job.pod.memory_mib <= free_memory + EPS
                    and all(a <= free_ext.get(k, 0) + EPS for k, a in job.pod.extended)
                )
                assert not fits, f"{job.id} is pending but fits on {node['name']}: {view['pendingReason']}"


@SETTINGS
@given(scenarios())
def test_invariants_hold_after_every_cycle(scenario):
    topology, ops = scenario
    run(topology, ops, check_invariants)


@SETTINGS
@given(scenarios())
def test_the_same_calls_give_the_same_results(scenario):
    topology, ops = scenario
    assert run(topology, ops) == run(topology, ops)


@SETTINGS
@given(st.data())
def test_a_fixed_set_of_jobs_reaches_a_fixed_point(data):
    """20: evicted jobs come straight back; within a bounded number of cycles nothing moves any more."""
    topology = data.draw(topologies())
    scheduler = Scheduler(topology)
    fixed = data.draw(jobs(topology, (2, 14)))
    for job in fixed:
        scheduler.enqueue(job)
    by_id = {job.id: job for job in fixed}
    for _ in range(30):
        result = scheduler.cycle()
        if not result.started and not result.evicted:
            break
        for eviction in result.evicted:
            scheduler.enqueue(by_id[eviction.job_id])
    else:
        raise AssertionError("no fixed point after 30 cycles")
    settled = scheduler.snapshot()
    again = scheduler.cycle()
    assert (again.started, again.evicted) == ([], [])
    assert scheduler.snapshot() == settled


class FullPass(Scheduler):
    """The scheduler without its shortcut: every cycle looks at everything."""

    def cycle(self) -> CycleResult:
        self._dirty = True
        return super().cycle()


@SETTINGS
@given(scenarios())
def test_an_incremental_cycle_decides_what_a_full_pass_decides(scenario):
    """20: skipping a cycle after no change never changes an outcome."""
    topology, ops = scenario
    incremental = run(topology, ops)
    full = run(topology, ops, scheduler_type=FullPass)
    assert [(r.started, r.evicted) for r in incremental[:-1]] == [(r.started, r.evicted) for r in full[:-1]]
    assert incremental[-1] == full[-1]


@SETTINGS
@given(st.data())
def test_saturated_fair_shares_add_up_to_the_pool_total_in_one_unit(data):
    """13: when every department asks for more than the pool, their fair shares divide exactly the pool's
    total, counted in charge units (MIG slices by their g), and projects divide their department's."""
    topology = data.draw(topologies())
    scheduler = Scheduler(topology)
    for i in range(40):
        for project in sorted(topology.projects):
            pod = PodRequest(mig_profile="1g.5gb") if i % 3 == 0 else PodRequest(gpus=1)
            scheduler.enqueue(
                Job(
                    id=f"{project}-{i}",
                    project_id=project,
                    pod=pod,
                    pods=1,
                    priority=50,
                    preemptible=True,
                    seq=i,
                )
            )
    scheduler.cycle()
    snapshot = scheduler.snapshot()
    for pool in topology.node_pools:
        total = scheduler.pool_total(pool).gpu
        departments = [q for (_, p), q in scheduler._state.departments.items() if p == pool]
        if sum(q.deserved.gpu for q in departments) > total or not any(q.weight.gpu for q in departments):
            continue  # oversubscribed guarantees, or nobody may go over quota: nothing to add up
        has_projects = {p.department_id for p in topology.projects.values()}
        views = {d["id"]: d["nodePools"][pool]["fairShare"] for d in snapshot["departments"]}
        assert abs(sum(v for d, v in views.items() if d in has_projects) - total) < 1e-6
        for department in snapshot["departments"]:
            children = [
                p["nodePools"][pool]["fairShare"]
                for p in snapshot["projects"]
                if p["departmentId"] == department["id"]
            ]
            if children:
                assert sum(children) <= department["nodePools"][pool]["fairShare"] + 1e-6

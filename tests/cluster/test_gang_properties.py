"""Gang properties over random clusters and requests: the scheduler's invariants (docs/scheduler.md §7) hold
with gangs among the jobs, a gang runs 0 or at least its minimum of pods after every cycle, and a
distributed training never runs below its minimum nor holds devices while it waits."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.cluster.clock import ManualClock
from mockserver.cluster.cluster import FakeCluster
from mockserver.cluster.kinds import DISTRIBUTED, TRAINING
from mockserver.cluster.resources import PodRequest
from mockserver.cluster.scheduler import CycleResult, Eviction, Job, Scheduler
from mockserver.cluster.topology import Topology
from mockserver.config import load_config
from mockserver.http.auth import Principal
from mockserver.parsing.training import parse_training
from mockserver.versions import VERSIONS
from tests.cluster.test_scheduler_properties import check_invariants, pod_requests, run, topologies

SETTINGS = settings(max_examples=80, deadline=None, derandomize=True)
TIMING = load_config().timing
ANYONE = Principal("tester", "tester@example.com", None)
_STALE = "; Workload doesn't meet the minimum"


def gang_jobs(topology: Topology, count: tuple[int, int]) -> st.SearchStrategy[list[Job]]:
    @st.composite
    def one(draw, seq: int) -> Job:
        workers = draw(st.integers(1, 3))
        is_gang = draw(st.booleans())
        # Gangs mostly preemptible, so that late work evicts their pods.
        priority = draw(st.sampled_from([25, 50, 50, 125] if is_gang else [25, 50, 75, 100, 125]))
        return Job(
            id=f"j{seq}",
            project_id=draw(st.sampled_from(sorted(topology.projects))),
            pod=draw(pod_requests()),
            pods=workers + 1 if is_gang else draw(st.sampled_from([1, 1, 2])),
            priority=priority,
            preemptible=priority < 100,
            node_pools=draw(st.sampled_from([[], topology.node_pools[:1]])),
            seq=seq,
            min_pods=1 + draw(st.integers(0, workers)) if is_gang else 0,
        )

    return st.integers(*count).flatmap(lambda n: st.tuples(*(one(i) for i in range(n))).map(list))


@st.composite
def gang_scenarios(draw) -> tuple[Topology, list[tuple]]:
    topology = draw(topologies())
    jobs = draw(gang_jobs(topology, (3, 12)))
    ops: list[tuple] = []
    for job in jobs:
        ops.append(("enqueue", job))
        for _ in range(draw(st.integers(0, 2))):
            ops.append(
                draw(st.sampled_from([("cycle",), ("requeue",), ("release", draw(st.sampled_from(jobs)).id)]))
            )
    ops += [("cycle",)]
    # Late work of higher priority (or in starved projects) evicts some gangs' pods: stale gangs.
    gang_projects = sorted({j.project_id for j in jobs if j.min_pods}) or sorted(topology.projects)
    for n in range(draw(st.integers(1, 4))):
        priority = draw(st.sampled_from([90, 90, 125]))
        late = Job(
            id=f"late{n}",
            project_id=draw(st.sampled_from(gang_projects)),
            pod=PodRequest(gpus=draw(st.integers(1, 2))),
            pods=1,
            priority=priority,
            preemptible=priority < 100,
            seq=1000 + n,
        )
        ops += [("enqueue", late), ("cycle",)]
    ops += [("requeue",), ("cycle",), ("cycle",)]
    return topology, ops


def gang_checker():
    """The check after each cycle; it remembers how many pods each job ran after the previous one."""
    running_after: dict[tuple[str, int], int] = {}

    def check(
        topology: Topology, scheduler: Scheduler, known: dict[str, Job], result: CycleResult, before: set[str]
    ) -> None:
        # A job that runs on may lose a pod (an elastic gang's extra worker, a parallel job's pod).
        now = {(j.id, id(j)): scheduler.running_pods(j.id) for j in known.values()}
        lost = any(key in now and now[key] < count for key, count in running_after.items())
        running_after.clear()
        running_after.update(now)
        check_gangs(topology, scheduler, known, result, before, lost)

    return check


def check_gangs(
    topology: Topology,
    scheduler: Scheduler,
    known: dict[str, Job],
    result: CycleResult,
    before: set[str],
    pods_lost: bool,
) -> None:
    # The shared invariants read a preemption's words; a stale gang's eviction adds its own after them.
    plain = [Eviction(e.job_id, e.message.split(_STALE)[0]) for e in result.evicted]
    outcome = CycleResult(result.started, plain, result.pending)
    check_invariants(topology, scheduler, known, outcome, before, pods_lost)
    held = {h for n in scheduler.snapshot()["nodes"] for d in n["devices"] for h in d["holders"]}
    for job in known.values():
        if not job.min_pods:
            continue
        running = scheduler.running_pods(job.id)
        assert running == 0 or running >= job.min_pods, (job.id, running, job.min_pods)
        if running == 0:
            assert scheduler.pods(job.id) == [] and job.id not in held
    for job_id in result.started:
        assert scheduler.running_pods(job_id) >= known[job_id].min_pods


@SETTINGS
@given(gang_scenarios())
def test_gangs_run_whole_or_not_at_all_and_keep_every_invariant(scenario) -> None:
    topology, ops = scenario
    run(topology, ops, gang_checker())


# -- the whole cluster: distributed trainings through their lifecycle --------------------------------


@st.composite
def cluster_runs(draw) -> tuple[Topology, list[tuple]]:
    topology = draw(topologies())
    steps: list[tuple] = []
    for _ in range(draw(st.integers(3, 10))):
        action = draw(st.sampled_from(["distributed", "distributed", "training", "load", "advance"]))
        project = draw(st.sampled_from(sorted(topology.projects)))
        if action == "distributed":
            workers = draw(st.integers(1, 4))
            minimum = draw(st.sampled_from([None, 1, workers]))
            lead = draw(st.sampled_from([None, PodRequest(cpu_millis=500), PodRequest(gpus=1)]))
            steps.append(("distributed", project, draw(st.integers(1, 2)), workers, minimum, lead))
        elif action == "training":
            steps.append(("training", project, draw(st.integers(1, 2))))
        elif action == "load":
            steps.append(("load", project, draw(st.integers(1, 4)), draw(st.sampled_from([50, 125]))))
        else:
            steps.append(("advance", draw(st.sampled_from([1, 3, 10, 40]))))
    return topology, steps


def _request(topology: Topology, project: str, gpus: int, priority: str):
    body = {
        "name": "g",
        "projectId": project,
        "clusterId": topology.cluster_id,
        "useGivenNameAsPrefix": True,
        "spec": {"image": "busybox", "compute": {"gpuDevicesRequest": gpus}, "priorityClass": priority},
    }
    return parse_training(body, VERSIONS["2.18"]).request


@SETTINGS
@given(cluster_runs())
def test_a_distributed_training_never_runs_below_its_minimum_nor_holds_devices_while_pending(run_) -> None:
    topology, steps = run_
    cluster = FakeCluster(topology, TIMING, ManualClock(), seed=3)
    minimum: dict[str, int] = {}
    for step in steps:
        if step[0] == "distributed":
            _, project, gpus, workers, min_workers, lead = step
            request = replace(
                _request(topology, project, gpus, "train"),
                pods=workers,
                min_replicas=min_workers,
                lead_pod=lead,
            )
            workload = cluster.submit(request, ANYONE, (), DISTRIBUTED)
            minimum[workload.workload_id] = 1 + (workers if min_workers is None else min_workers)
        elif step[0] == "training":
            cluster.submit(_request(topology, step[1], step[2], "build"), ANYONE, (), TRAINING)
        elif step[0] == "load":
            pod = PodRequest(gpus=step[2])
            cluster.submit_load("load", step[1], pod, step[3], step[3] < 100, [])
        cluster.advance(step[-1] if step[0] == "advance" else 2)
        for workload in cluster.workloads(DISTRIBUTED):
            placed = cluster.placement(workload.workload_id) or []
            phase = workload.actual_phase.value
            if phase == "Running":
                assert len(placed) >= minimum[workload.workload_id], (phase, placed)
            if phase in ("Pending", "Creating", "Stopped", "Resuming", "Terminating"):
                assert placed == [], (phase, workload.pending_reason)

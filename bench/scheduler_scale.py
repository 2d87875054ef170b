"""Scale benchmark of the fake cluster's scheduler (a script, not a test).

    .venv/bin/python bench/scheduler_scale.py           # full run (a few minutes)
    .venv/bin/python bench/scheduler_scale.py --quick   # small sizes, a smoke check
    .venv/bin/python bench/scheduler_scale.py --cpu-time  # this process's CPU time instead of wall time

Prints:
- target: one cycle at 500 nodes / 4,000 GPUs with 1,000 pending jobs, on an empty cluster (every job
  is placed) and on a full one (nothing fits; the usual steady state), against a 100 ms budget;
- growth: the same cycles at 250 / 500 / 1,000 / 2,000 pending, and time / (n log n) relative to the
  smallest n (flat or falling means no worse than n log n);
- scale: 1,000 nodes x 8 GPUs, 10,000 jobs of mixed sizes across 50 projects, submitted then cycled until
  settled (evicted jobs re-queued, as the lifecycle does), then a few rounds of completions; per-cycle
  p50 / p95 / max, total wall time and peak RSS.
"""

from __future__ import annotations

import argparse
import math
import random
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mockserver.cluster.resources import PodRequest
from mockserver.cluster.scheduler import CycleResult, Job, Scheduler
from mockserver.cluster.topology import Topology, topology_from_dict

PROJECTS = 50
DEPARTMENTS = 5


def build_topology(nodes: int, pools: int) -> Topology:
    pool_names = [f"pool-{i}" for i in range(pools)]
    gpus_per_pool = nodes * 8 // pools
    deserved = gpus_per_pool // PROJECTS
    quota = {pool: {"gpu": {"deserved": deserved, "overQuotaWeight": 1}} for pool in pool_names}
    data = {
        "cluster": {"id": "bench"},
        "nodePools": pool_names,
        "departments": [{"id": f"d{i}", "name": f"dept-{i}"} for i in range(DEPARTMENTS)],
        "projects": [
            {"id": f"p{i}", "name": f"project-{i}", "departmentId": f"d{i % DEPARTMENTS}", "quotas": quota}
            for i in range(PROJECTS)
        ],
        "nodes": [
            {
                "name": f"node-{i:04d}",
                "pool": pool_names[i % pools],
                "gpus": 8,
                "gpuMemoryMiB": 81920,
                "cpuMillis": 128_000,
                "memoryMiB": 1_048_576,
            }
            for i in range(nodes)
        ],
    }
    return topology_from_dict(data, "bench")


SHAPES = [  # (weight, pod request, pods)
    (50, PodRequest(gpus=1, cpu_millis=4000, memory_mib=16384), 1),
    (12, PodRequest(gpus=2, cpu_millis=8000, memory_mib=32768), 1),
    (8, PodRequest(gpus=4, cpu_millis=16000, memory_mib=65536), 1),
    (4, PodRequest(gpus=8, cpu_millis=32000, memory_mib=131072), 1),
    (3, PodRequest(gpus=4, cpu_millis=16000, memory_mib=65536), 2),
    (10, PodRequest(gpu_fraction=0.5, gpu_devices=1, cpu_millis=2000, memory_mib=8192), 1),
    (8, PodRequest(gpu_fraction=0.25, gpu_devices=1, cpu_millis=1000, memory_mib=4096), 1),
    (5, PodRequest(gpu_fraction=0.5, gpu_devices=2, cpu_millis=2000, memory_mib=8192), 1),
]


def make_jobs(count: int, rng: random.Random, first_seq: int = 0) -> list[Job]:
    weights = [w for w, _, _ in SHAPES]
    jobs = []
    for i in range(count):
        _, pod, pods = rng.choices(SHAPES, weights)[0]
        non_preemptible = rng.random() < 0.05
        jobs.append(
            Job(
                id=f"job-{first_seq + i}",
                project_id=f"p{rng.randrange(PROJECTS)}",
                pod=pod,
                pods=pods,
                priority=100 if non_preemptible else 50,
                preemptible=not non_preemptible,
                node_pools=[],
                node_type=None,
                seq=first_seq + i,
            )
        )
    return jobs


# Wall time by default; --cpu-time swaps in the process's CPU time, which other work on a shared machine
# disturbs far less (use it to compare two versions of the scheduler).
clock = time.perf_counter


def timed_cycle(scheduler: Scheduler) -> tuple[float, CycleResult]:
    start = clock()
    result = scheduler.cycle()
    return clock() - start, result


def settle(scheduler: Scheduler, jobs: dict[str, Job], times: list[float], limit: int = 200) -> int:
    """Cycle until nothing starts or is evicted, re-queueing evicted jobs; returns the cycles run."""
    for cycles in range(1, limit + 1):
        elapsed, result = timed_cycle(scheduler)
        times.append(elapsed)
        for eviction in result.evicted:
            scheduler.enqueue(jobs[eviction.job_id])
        if not result.started and not result.evicted:
            return cycles
    return limit


def pending_cycle(nodes: int, pending: int, full: bool, seed: int = 1) -> float:
    """One cycle with `pending` jobs waiting, on an empty cluster or on one already full."""
    rng = random.Random(seed)
    scheduler = Scheduler(build_topology(nodes, 1))
    seq = 0
    if full:
        filler = [
            Job(
                f"fill-{i}",
                f"p{i % PROJECTS}",
                PodRequest(gpus=8, cpu_millis=32000),
                1,
                50,
                True,
                [],
                None,
                i,
            )
            for i in range(nodes)
        ]
        for job in filler:
            scheduler.enqueue(job)
        scheduler.cycle()
        seq = nodes
    for job in make_jobs(pending, rng, seq):
        scheduler.enqueue(job)
    elapsed, _ = timed_cycle(scheduler)
    return elapsed


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke check")
    parser.add_argument("--cpu-time", action="store_true", help="time with process CPU time, not wall time")
    args = parser.parse_args()
    global clock
    if args.cpu_time:
        clock = time.process_time
    target_nodes, target_pending = (50, 100) if args.quick else (500, 1000)
    growth = [25, 50, 100, 200] if args.quick else [250, 500, 1000, 2000]
    scale_nodes, scale_jobs, pools = (100, 1000, 2) if args.quick else (1000, 10_000, 2)
    wall = clock()

    print(f"== target: {target_nodes} nodes / {target_nodes * 8} GPUs, {target_pending} pending, one cycle")
    empty = min(pending_cycle(target_nodes, target_pending, full=False) for _ in range(3))
    full = min(pending_cycle(target_nodes, target_pending, full=True) for _ in range(3))
    verdict = "OK" if max(empty, full) < 0.1 else "OVER BUDGET"
    print(
        f"  empty cluster (all placed): {ms(empty)}   full cluster (none fit): {ms(full)}   budget 100 ms: {verdict}"
    )

    print(f"== growth at {target_nodes} nodes: cycle time by pending jobs (best of 3)")
    base: dict[bool, float] = {}
    for n in growth:
        row = []
        for is_full in (False, True):
            t = min(pending_cycle(target_nodes, n, full=is_full) for _ in range(3))
            per = t / (n * math.log(n))
            base.setdefault(is_full, per)
            row.append(f"{'full' if is_full else 'empty'} {ms(t)} (x{per / base[is_full]:.2f} of n log n)")
        print(f"  pending {n:5d}: " + "   ".join(row))

    print(f"== scale: {scale_nodes} nodes x 8 GPUs in {pools} pools, {scale_jobs} jobs, {PROJECTS} projects")
    rng = random.Random(7)
    scheduler = Scheduler(build_topology(scale_nodes, pools))
    jobs = {job.id: job for job in make_jobs(scale_jobs, rng)}
    start = clock()
    for job in jobs.values():
        scheduler.enqueue(job)
    submit = clock() - start
    times: list[float] = []
    cycles = settle(scheduler, jobs, times)
    settled = clock() - start
    running = [j["id"] for j in scheduler.snapshot()["jobs"] if j["pods"]]
    print(f"  submit {ms(submit)}; settled after {cycles} cycles, {ms(settled)}; running {len(running)}")
    for round_ in range(3):
        done = rng.sample(running, len(running) // 10)
        for job_id in done:
            scheduler.release(job_id)
        cycles = settle(scheduler, jobs, times)
        running = [j["id"] for j in scheduler.snapshot()["jobs"] if j["pods"]]
        print(f"  completions round {round_ + 1}: {len(done)} finished, settled after {cycles} cycles")
    print(
        f"  per cycle ({len(times)} cycles): p50 {ms(statistics.median(times))}  p95 {ms(percentile(times, 0.95))}"
        f"  max {ms(max(times))}"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    what = "CPU" if args.cpu_time else "wall"
    print(f"== total {what} time {clock() - wall:.1f} s, peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()

"""API latency under a deep queue (a script, not a test): does a long line of pending trainings move the
tail latency of reads? Prints figures; asserts nothing.

    .venv/bin/python bench/api_deep_queue.py           # 10,000 queued, then 20,000 creates (a few minutes)
    .venv/bin/python bench/api_deep_queue.py --quick   # 1,000 and 2,000

Two parts, each against a fresh fake on loopback (default cluster, realtime clock at --speed 50, so that
scheduling cycles and phase timers run all the time):

1. deep queue: GET p99 of one training at 32 concurrent connections while the cluster is idle, then
   again once N one-GPU trainings are queued behind the cluster's 46 GPUs; the ratio is the figure
   (target: at most 3). Both times one more connection keeps submitting and deleting a training, so
   that scheduling cycles run as they do on a cluster in use (a queue nobody touches costs nothing).
2. creates: M trainings created at 8 connections while 4 connections GET a training all along; GET
   p50 / p99 / max during the creates (target p99 at most 100 ms) and creates per second.

Every loop is bounded in count and, through --deadline, in time.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contracts.backend.server import LocalServer

CLUSTER_ID = "71f69d83-ba66-4822-adf5-55ce55efd210"
TRAININGS = "/api/v1/workloads/trainings"


def body(name: str) -> dict[str, object]:
    return {
        "name": name,
        "projectId": "1",
        "clusterId": CLUSTER_ID,
        "spec": {"image": "busybox", "compute": {"gpuDevicesRequest": 1}},
    }


def token(base: str) -> dict[str, str]:
    answer = httpx.post(
        base + "/api/v1/token",
        json={"grantType": "app_token", "AppId": "mock-app", "AppSecret": "mock-secret"},
    )
    return {"Authorization": f"Bearer {answer.json()['accessToken']}"}


async def bounded(workers: int, count: int, deadline: float, job: Callable[[int], Awaitable[None]]) -> int:
    """Run job(0..count-1) on `workers` tasks; stop early at `deadline` (monotonic). Returns how many ran."""
    numbers = itertools.count()
    done = 0

    async def worker() -> None:
        nonlocal done
        while (n := next(numbers)) < count and time.monotonic() < deadline:
            await job(n)
            done += 1

    await asyncio.gather(*(worker() for _ in range(workers)))
    return done


async def get_latencies(
    client: httpx.AsyncClient, path: str, workers: int, count: int, deadline: float
) -> list[float]:
    latencies: list[float] = []

    async def one(_: int) -> None:
        start = time.perf_counter()
        (await client.get(path)).raise_for_status()
        latencies.append(time.perf_counter() - start)

    await bounded(workers, count, deadline, one)
    return latencies


async def create(client: httpx.AsyncClient, name: str) -> str:
    answer = await client.post(TRAININGS, json=body(name))
    answer.raise_for_status()
    return str(answer.json()["workloadId"])


def figures(latencies: list[float]) -> tuple[float, float, float]:
    """p50, p99, max in ms."""
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000, ordered[-1] * 1000


def client(base: str, headers: dict[str, str], connections: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60.0)


async def with_churn(
    http: httpx.AsyncClient, measure: Awaitable[list[float]], deadline: float
) -> list[float]:
    """Run `measure` while one connection submits and deletes a training over and over."""
    busy = True
    churned = itertools.count()

    async def churn() -> None:
        while busy and time.monotonic() < deadline:
            workload = await create(http, f"churn-{next(churned)}")
            (await http.delete(f"{TRAININGS}/{workload}")).raise_for_status()

    task = asyncio.create_task(churn())
    try:
        return await measure
    finally:
        busy = False
        await task


async def deep_queue(base: str, queued: int, gets: int, deadline: float) -> None:
    headers = token(base)
    async with client(base, headers, 40) as http:
        probe = f"{TRAININGS}/{await create(http, 'probe')}"
        await get_latencies(http, probe, 32, 200, deadline)  # warm up
        idle = await with_churn(http, get_latencies(http, probe, 32, gets, deadline), deadline)
        start = time.perf_counter()
        made = await bounded(16, queued, deadline, lambda n: create(http, f"queued-{n}"))
        took = time.perf_counter() - start
        await asyncio.sleep(1.0)  # 50 virtual seconds: every training is past Creating
        deep = await with_churn(http, get_latencies(http, probe, 32, gets, deadline), deadline)
        snapshot = (await http.get("/api/mock/v1/snapshot")).json()
    pending = sum(1 for t in snapshot["trainings"] if t.get("actualPhase") == "Pending")
    i50, i99, imax = figures(idle)
    d50, d99, dmax = figures(deep)
    print(f"== deep queue: {made} trainings created in {took:.1f} s ({made / took:.0f}/s); {pending} Pending")
    print(
        f"  GET idle        p50 {i50:7.2f} ms  p99 {i99:7.2f} ms  max {imax:7.2f} ms  ({len(idle)} GETs, 32 connections, 1 churning)"
    )
    print(f"  GET deep queue  p50 {d50:7.2f} ms  p99 {d99:7.2f} ms  max {dmax:7.2f} ms  ({len(deep)} GETs)")
    print(f"  p99 deep / idle: {d99 / i99:.2f}  (target <= 3)")


async def creates(base: str, total: int, deadline: float) -> None:
    headers = token(base)
    async with client(base, headers, 16) as http:
        probe = f"{TRAININGS}/{await create(http, 'probe')}"
        await get_latencies(http, probe, 4, 100, deadline)
        creating = True
        latencies: list[float] = []

        async def prober() -> None:
            while creating and time.monotonic() < deadline:
                latencies.extend(await get_latencies(http, probe, 4, 40, deadline))

        probing = asyncio.create_task(prober())
        start = time.perf_counter()
        made = await bounded(8, total, deadline, lambda n: create(http, f"load-{n}"))
        took = time.perf_counter() - start
        creating = False
        await probing
        after = await get_latencies(http, probe, 4, 400, deadline)
    p50, p99, peak = figures(latencies)
    a50, a99, amax = figures(after)
    print(f"== {made} creates on --speed 50 in {took:.1f} s: {made / took:.0f} creates/s (8 connections)")
    print(
        f"  GET during      p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  max {peak:7.2f} ms  ({len(latencies)} GETs, 4 connections)"
    )
    print(
        f"  GET after       p50 {a50:7.2f} ms  p99 {a99:7.2f} ms  max {amax:7.2f} ms  (target p99 during <= 100 ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 queued and 2,000 creates")
    parser.add_argument("--queued", type=int, default=10_000)
    parser.add_argument("--creates", type=int, default=20_000)
    parser.add_argument("--gets", type=int, default=4_000)
    parser.add_argument("--deadline", type=float, default=600.0, help="seconds each part may take at most")
    args = parser.parse_args()
    queued, total, gets = (1_000, 2_000, 1_000) if args.quick else (args.queued, args.creates, args.gets)
    serve = [sys.executable, "-m", "mockserver"]
    # Without the request log when the fake has one to switch off (its cost is not the queue's).
    quiet = (
        ["--quiet"]
        if "--quiet" in subprocess.run([*serve, "--help"], capture_output=True, text=True).stdout
        else []
    )

    flags = ["--host", "127.0.0.1", "--clock", "realtime", "--speed", "50", "--seed", "0", *quiet]

    def command(port: int) -> list[str]:
        return [*serve, *flags, "--port", str(port)]

    started = time.perf_counter()
    if queued:  # --queued 0 skips the part
        with LocalServer.start(command) as server:
            asyncio.run(deep_queue(server.base_url, queued, gets, time.monotonic() + args.deadline))
    if total:  # --creates 0 skips the part
        with LocalServer.start(command) as server:
            asyncio.run(creates(server.base_url, total, time.monotonic() + args.deadline))
    print(f"== total wall time {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()

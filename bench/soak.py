"""Soak (a script, not a test): does the fake stay small and quick while 20,000 trainings pile up?

    .venv/bin/python bench/soak.py            # 20,000 creates (a few minutes)
    .venv/bin/python bench/soak.py --quick    # 2,000
    .venv/bin/python bench/soak.py --state    # every create journalled (--state FILE), then a restart

A fresh fake on loopback, realtime clock at speed 1 (trainings run for an hour, so every one of them
stays: nothing is completed or auto-deleted during the soak). 4 connections create trainings of a few
shapes (most wait in the queue behind the cluster's GPUs) while one connection reads a random existing
training all along. After every tenth of the creates the script prints the server's resident memory
(from /proc) and the GET p50 / p99 of that window; at the end the ratios that matter: memory per
thousand trainings, and the last window's p99 over the first's. Bounded in count and, through
--deadline, in time; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contracts.backend.server import HOST, LocalServer

CLUSTER_ID = "71f69d83-ba66-4822-adf5-55ce55efd210"
TRAININGS = "/api/v1/workloads/trainings"
CREATORS = 4
SHAPES = ({"gpuDevicesRequest": 1}, {"gpuDevicesRequest": 2}, {"gpuDevicesRequest": 0, "cpuCoreRequest": 0.5})


def command(state: Path | None) -> Callable[[int], list[str]]:
    def argv(port: int) -> list[str]:
        return [sys.executable, "-m", "mockserver", "--host", HOST, "--port", str(port), "--quiet",
                "--clock", "realtime", "--speed", "1", "--seed", "1",
                *(["--state", str(state)] if state else [])]  # fmt: skip

    return argv


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


async def soak(base: str, pid: int, total: int, deadline: float) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        grant = {"grantType": "app_token", "AppId": "mock-app", "AppSecret": "mock-secret"}
        token = (await client.post("/api/v1/token", json=grant)).json()["accessToken"]
        client.headers["Authorization"] = f"Bearer {token}"
        ids: list[str] = []
        latencies: list[float] = []
        counter = iter(range(total))
        done = asyncio.Event()
        started = time.monotonic()

        async def creator() -> None:
            for i in counter:
                if time.monotonic() > deadline:
                    break
                body = {"name": f"soak-{i}", "projectId": "1", "clusterId": CLUSTER_ID,
                        "spec": {"image": "busybox", "compute": SHAPES[i % len(SHAPES)]}}  # fmt: skip
                answer = await client.post(TRAININGS, json=body)
                if answer.status_code != 200:
                    raise SystemExit(f"create {i} answered {answer.status_code}: {answer.text[:200]}")
                ids.append(answer.json()["workloadId"])

        async def reader() -> None:
            rng = random.Random(0)
            while not done.is_set():
                if not ids:
                    await asyncio.sleep(0.01)
                    continue
                began = time.perf_counter()
                answer = await client.get(f"{TRAININGS}/{rng.choice(ids)}")
                latencies.append(time.perf_counter() - began)
                assert answer.status_code == 200, answer.text

        async def reporter() -> None:
            window = max(1, total // 10)
            mark, rows = window, []
            print(f"{'creates':>8} {'RSS MiB':>8} {'GET p50 ms':>10} {'GET p99 ms':>10} {'creates/s':>9}")
            while not done.is_set() or mark <= len(ids):
                await asyncio.sleep(0.05)
                if len(ids) >= mark or (done.is_set() and latencies):
                    sample, latencies[:] = latencies[:], []
                    rows.append((len(ids), rss_mib(pid), percentile(sample, 0.5), percentile(sample, 0.99)))
                    rate = len(ids) / (time.monotonic() - started)
                    count, rss, p50, p99 = rows[-1]
                    print(
                        f"{count:>8} {rss:>8.1f} {p50 * 1000:>10.2f} {p99 * 1000:>10.2f} {rate:>9.0f}",
                        flush=True,
                    )
                    mark += window
                    if done.is_set():
                        break
            first, last = rows[0], rows[-1]
            per_thousand = (last[1] - first[1]) / max(1, (last[0] - first[0]) / 1000)
            print(
                f"\nresident memory: {first[1]:.0f} -> {last[1]:.0f} MiB, {per_thousand:.2f} MiB per 1,000 trainings"
            )
            print(f"GET p99, last window over first: {last[3] / first[3]:.2f}")

        report = asyncio.create_task(reporter())
        read = asyncio.create_task(reader())
        await asyncio.gather(*(creator() for _ in range(CREATORS)))
        done.set()
        await asyncio.gather(read, report)
        if len(ids) < total:
            print(f"stopped at the deadline after {len(ids)} of {total} creates")
        print(f"{len(ids)} creates in {time.monotonic() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="2,000 creates instead of 20,000")
    parser.add_argument("--creates", type=int, default=None, help="how many trainings to create")
    parser.add_argument("--deadline", type=float, default=900, help="stop creating after this many seconds")
    parser.add_argument(
        "--state", action="store_true", help="with --state FILE: journal every create, then time a restart"
    )
    args = parser.parse_args()
    total = args.creates or (2_000 if args.quick else 20_000)
    with tempfile.TemporaryDirectory() as scratch:
        state = Path(scratch) / "state.db" if args.state else None
        with LocalServer.start(command(state)) as server:
            mode = "with --state" if state else "in memory"
            print(f"soak: {total} creates against {server.base_url} (pid {server.process.pid}), {mode}\n")
            asyncio.run(soak(server.base_url, server.process.pid, total, time.monotonic() + args.deadline))
        if state:
            began = time.monotonic()  # the restart replays every create before it serves
            with LocalServer.start(command(state), timeout=args.deadline) as again:
                seconds = time.monotonic() - began
                print(
                    f"restart on the state file ({state.stat().st_size / 2**20:.1f} MiB): serving after {seconds:.1f} s"
                )
                print(f"resident memory after the replay: {rss_mib(again.process.pid):.0f} MiB")


if __name__ == "__main__":
    main()

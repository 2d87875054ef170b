"""Dashboards against the API, and a year of virtual time — this tree against a baseline tree, in one run.
Prints figures and the targets of issue 22; asserts nothing.

    python bench/scale_streams.py [--trainings 2000] [--seconds 4] [--baseline REV]

1. streams: a fake on a realtime clock at --speed 50 with N crash-looping trainings (they change all the
   time); GET p99 of one training idle, with 20 dashboard streams open and read, and with 255 streams
   asked for (statuses of the API GETs counted: 503 is a refused API client).
2. advance: a manual-clock fake with one 1,000-pod crash-looping training; one POST advancing a year,
   timed (the baseline is given --limit seconds, then stopped with SIGTERM; how long it took to exit is
   printed too).

Load comes from the lean asyncio client (bench/asyncio_load.py); its share of the two cores is in the
figures, so read the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from asyncio_load import CLUSTER_ID, TRAININGS, Connection
from scale_lists import baseline_tree, percentiles

from contracts.backend.server import HOST, free_port

REPO = Path(__file__).resolve().parents[1]
STREAM = "/api/mock/v1/stream"
YEAR = 365 * 24 * 3600
CONTROL = {"X-Mock-Control": "1"}


def loop_body(name: str, pods: int = 1, seconds: int = 5) -> dict[str, object]:
    return {
        "name": name,
        "projectId": "1",
        "clusterId": CLUSTER_ID,
        "useGivenNameAsPrefix": True,
        "spec": {
            "image": "busybox",
            "parallelism": pods,
            "completions": pods,
            "backoffLimit": 10000,
            "compute": {"cpuCoreRequest": 0.001},
            "annotations": [
                {"name": "mock.runai/duration", "value": str(seconds)},
                {"name": "mock.runai/outcome", "value": "Failed"},
            ],
        },
    }


def server(tree: Path, *flags: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "mockserver", "--port", str(port), "--quiet", "--seed", "0", *flags]
    process = subprocess.Popen(
        command, env=env, cwd=tree, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://{HOST}:{port}"
    for _ in range(300):
        try:
            httpx.get(f"{base}/api/mock/v1/clock", timeout=1)
            return process, base
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def token(base: str) -> dict[str, str]:
    answer = httpx.post(
        f"{base}/api/v1/token",
        json={"grantType": "app_token", "AppId": "mock-app", "AppSecret": "mock-secret"},
    )
    return {"Authorization": f"Bearer {answer.json()['accessToken']}"}


async def gets(port: int, headers: dict[str, str], path: str, seconds: float) -> tuple[list[float], int]:
    connection, times, refused = Connection(HOST, port, headers), [], 0
    until = time.monotonic() + seconds
    try:
        while time.monotonic() < until:
            started = time.perf_counter()
            status, _ = await connection.send("GET", path)
            times.append(time.perf_counter() - started)
            refused += status != 200
            if status != 200:
                connection.close()
                connection = Connection(HOST, port, headers)
    finally:
        connection.close()
    return times, refused


async def with_streams(port: int, headers: dict[str, str], path: str, streams: int, seconds: float) -> Any:
    opened: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    statuses: list[bytes] = []
    for _ in range(streams):
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
        except OSError:
            statuses.append(b"refused")
            continue
        writer.write(f"GET {STREAM} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
        opened.append((reader, writer))
    for reader, _ in opened:
        line = await reader.readline()
        statuses.append(line.split(b" ")[1] if line else b"closed")

    async def drain(reader: asyncio.StreamReader) -> None:
        while await reader.read(65536):
            pass

    readers = [asyncio.ensure_future(drain(reader)) for reader, _ in opened]
    try:
        return await gets(port, headers, path, seconds), statuses
    finally:
        for task in readers:
            task.cancel()
        for _, writer in opened:
            writer.close()


def streams_part(tree: Path, trainings: int, seconds: float) -> dict[str, str]:
    process, base = server(tree, "--clock", "realtime", "--speed", "50")
    try:
        headers, port = token(base), int(base.rsplit(":", 1)[1])
        last = ""
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            for i in range(trainings):
                last = client.post(TRAININGS, json=loop_body(f"loop{i % 10}")).json()["workloadId"]
        path = f"{TRAININGS}/{last}"
        idle, _ = asyncio.run(gets(port, headers, path, seconds))
        (twenty, refused20), _ = asyncio.run(with_streams(port, headers, path, 20, seconds))
        (many, refused255), statuses = asyncio.run(with_streams(port, headers, path, 255, seconds))
        p99 = {
            name: percentiles(values)[1] for name, values in (("idle", idle), ("20", twenty), ("255", many))
        }
        return {
            "GET p99 idle ms": f"{p99['idle']:.1f}",
            "GET p99, 20 streams ms": f"{p99['20']:.1f} ({p99['20'] / p99['idle']:.1f}x)",
            "API GETs refused, 20 streams": str(refused20),
            "GET p99, 255 streams ms": f"{p99['255']:.1f} ({p99['255'] / p99['idle']:.1f}x)",
            "API GETs refused, 255 streams": f"{refused255} of {len(many)}",
            "streams accepted of 255": str(statuses.count(b"200")),
        }
    finally:
        process.terminate()
        process.wait(30)


def advance_part(tree: Path, limit: float) -> dict[str, str]:
    process, base = server(tree, "--clock", "manual")
    try:
        headers = token(base)
        httpx.post(f"{base}{TRAININGS}", json=loop_body("loop", pods=1000, seconds=10), headers=headers)
        started = time.perf_counter()
        try:
            answer = httpx.post(
                f"{base}/api/mock/v1/clock/advance", json={"seconds": YEAR}, headers=CONTROL, timeout=limit
            )
            took = f"{time.perf_counter() - started:.2f} s ({answer.status_code})"
        except httpx.TimeoutException:
            took = f"> {limit:g} s (no answer)"
        stopped = time.perf_counter()
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
            exit_after = f"{time.perf_counter() - stopped:.1f} s"
        except subprocess.TimeoutExpired:
            exit_after = "> 10 s (killed)"
        return {"one-year advance, 1,000-pod crash loop": took, "exit after SIGTERM": exit_after}
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trainings", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--limit", type=float, default=20.0, help="seconds the year-long advance may take")
    parser.add_argument("--baseline", default="2cc8a32", help="git revision to compare with ('' skips)")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}; {args.trainings} crash-looping trainings at --speed 50")
    with tempfile.TemporaryDirectory() as scratch:
        trees = {"this tree": REPO}
        if args.baseline:
            trees = {f"baseline {args.baseline}": baseline_tree(args.baseline, Path(scratch)), **trees}
        results = {
            label: {**streams_part(tree, args.trainings, args.seconds), **advance_part(tree, args.limit)}
            for label, tree in trees.items()
        }
    labels = list(results)
    print(f"{'figure':<40}" + "".join(f"{label:>28}" for label in labels))
    for figure in results[labels[-1]]:
        print(f"{figure:<40}" + "".join(f"{r.get(figure, '-'):>28}" for r in results.values()))
    print("targets: GET p99 with streams <= 2x idle, no API GET refused; a year's advance <= 2 s")


if __name__ == "__main__":
    main()

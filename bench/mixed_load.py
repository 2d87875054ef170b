"""64 clients mixing create, get, suspend, resume, delete and list against one fake, for a bounded time.

Each client runs the same cycle on a training of its own (create, get, suspend, get, resume, list of 50,
delete; every fourth training is kept) on its own keep-alive connection (the lean asyncio client of
bench/asyncio_load.py) until --seconds pass. Prints p50/p99 per operation and overall, the count of 5xx answers, the other refusals
(a resume of a training still suspending is a documented 409, for instance), and whether anything was
lost: at the end every training a client created and did not delete must still be there (GET 200):
none may be missing. The target of issue 22 is p99 <= 100 ms, no 5xx, nothing lost.
The client shares the two cores with the server: its time is in the figures, so read them side by side
with a baseline run of the same script. Asserts nothing.

    python bench/mixed_load.py [--seconds 20] [--clients 64] [--speed 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from asyncio_load import CLUSTER_ID, TRAININGS, Connection
from scale_lists import percentiles

from contracts.backend.server import HOST, free_port

GRANT = {"grantType": "app_token", "AppId": "mock-app", "AppSecret": "mock-secret"}
TARGET_P99_MS = 100.0


def body(name: str) -> bytes:
    spec = {"image": "busybox", "compute": {"cpuCoreRequest": 0.01}}
    return json.dumps({"name": name, "projectId": "1", "clusterId": CLUSTER_ID, "spec": spec}).encode()


class Tally:
    def __init__(self) -> None:
        self.times: dict[str, list[float]] = defaultdict(list)
        self.statuses: Counter[tuple[str, int]] = Counter()

    def note(self, operation: str, started: float, status: int) -> None:
        self.times[operation].append(time.perf_counter() - started)
        self.statuses[operation, status] += 1


async def client(port: int, headers: dict[str, str], number: int, deadline: float, tally: Tally) -> set[str]:
    """One client's cycles until `deadline`; the ids it created and did not delete."""
    connection = Connection(HOST, port, headers)
    kept: set[str] = set()
    cycle = 0
    try:
        while time.monotonic() < deadline:
            cycle += 1
            started = time.perf_counter()
            status, answer = await connection.send("POST", TRAININGS, body(f"m{number}-{cycle}"))
            tally.note("create", started, status)
            if status >= 300:
                continue
            workload_id = json.loads(answer)["workloadId"]
            kept.add(workload_id)
            for operation, method, path in (
                ("get", "GET", f"{TRAININGS}/{workload_id}"),
                ("suspend", "POST", f"{TRAININGS}/{workload_id}/suspend"),
                ("get", "GET", f"{TRAININGS}/{workload_id}"),
                ("resume", "POST", f"{TRAININGS}/{workload_id}/resume"),
                ("list", "GET", "/api/v1/workloads?limit=50"),
                # Every fourth training is kept: at the end it must still be there.
                *((("delete", "DELETE", f"{TRAININGS}/{workload_id}"),) if cycle % 4 else ()),
            ):
                started = time.perf_counter()
                status, _ = await connection.send(method, path)
                tally.note(operation, started, status)
                if operation == "delete" and status < 300:
                    kept.discard(workload_id)
    finally:
        connection.close()
    return kept


async def run(port: int, token: str, clients: int, seconds: float) -> tuple[Tally, set[str]]:
    headers = {"Authorization": f"Bearer {token}"}
    tally, deadline = Tally(), time.monotonic() + seconds
    kept = await asyncio.gather(*(client(port, headers, n, deadline, tally) for n in range(clients)))
    return tally, set().union(*kept)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--speed", type=float, default=20.0, help="the realtime clock's speed")
    args = parser.parse_args()
    port = free_port()
    argv = [sys.executable, "-m", "mockserver", "--port", str(port), "--quiet", "--seed", "0"]
    argv += ["--clock", "realtime", "--speed", str(args.speed)]
    server = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    base = f"http://{HOST}:{port}"
    try:
        for _ in range(200):
            try:
                token = httpx.post(base + "/api/v1/token", json=GRANT, timeout=2).json()["accessToken"]
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        else:
            raise SystemExit("the fake did not start")
        load = os.getloadavg()[0]
        tally, kept = asyncio.run(run(port, token, args.clients, args.seconds))
        auth = {"Authorization": f"Bearer {token}"}
        missing = [w for w in kept if httpx.get(f"{base}{TRAININGS}/{w}", headers=auth).status_code != 200]
    finally:
        server.terminate()
        server.wait(10)
    every = [t for times in tally.times.values() for t in times]
    p50, p99 = percentiles(every)
    errors = sum(count for (_, status), count in tally.statuses.items() if status >= 500)
    print(f"{args.clients} clients, {args.seconds:.0f} s, realtime x{args.speed:g}; load average {load:.2f}")
    for operation, times in sorted(tally.times.items()):
        low, high = percentiles(times)
        statuses = {s: c for (o, s), c in sorted(tally.statuses.items()) if o == operation}
        print(f"  {operation:<8} {len(times):6d}  p50 {low:7.1f} ms  p99 {high:7.1f} ms  {statuses}")
    print(
        f"  all      {len(every):6d}  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  (target p99 <= {TARGET_P99_MS:.0f} ms)"
    )
    print(f"  5xx: {errors}; kept {len(kept)} trainings, missing at the end: {len(missing)}")


if __name__ == "__main__":
    main()

"""What `--state FILE` costs: creates and create/delete pairs per second with it and without, in one run.

Two fake processes (manual clock, seed 0), one on a state file in a temporary directory; for each, a
few seconds of creates then of create/delete pairs from `--clients` concurrent clients (asyncio,
keep-alive). Every change with `--state` waits for its journal row to be on disk (SQLite, synchronous)
before it runs; reads cost the same either way. Prints the rates and the ratio; asserts nothing. The
figure that explains the ratio is printed too: one fsync on the state file's disk.

    python bench/state_overhead.py [--seconds 4] [--clients 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

import httpx

from contracts.backend.server import LocalServer, fake_command

TRAININGS = "/api/v1/workloads/trainings"
GRANT = {"grantType": "app_token", "AppId": "mock-app", "AppSecret": "mock-secret"}


def body(name: str) -> dict[str, object]:
    return {
        "name": name,
        "projectId": "1",
        "clusterId": "71f69d83-ba66-4822-adf5-55ce55efd210",
        "spec": {"image": "busybox", "compute": {"cpuCoreRequest": 0.1}},
    }


async def rate(base: str, seconds: float, clients: int, operation: str) -> tuple[float, int]:
    """Changes per second answered 2xx by `clients` concurrent clients; the count of other answers."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        token = (await client.post("/api/v1/token", json=GRANT)).json()["accessToken"]
        headers = {"Authorization": f"Bearer {token}"}
        done, failed, deadline = 0, 0, time.monotonic() + seconds
        statuses: dict[int, int] = {}

        async def one(number: int) -> None:
            nonlocal done, failed
            own: str | None = None
            step = 0
            while time.monotonic() < deadline:
                step += 1
                if operation == "create" or own is None:
                    answer = await client.post(
                        TRAININGS,
                        json=body(f"{operation[0]}{len(operation)}-{number}-{step}"),
                        headers=headers,
                    )
                    own = answer.json().get("workloadId") if answer.status_code < 300 else None
                else:
                    answer = await client.delete(f"{TRAININGS}/{own}", headers=headers)
                    own = None
                if answer.status_code < 300:
                    done += 1
                else:
                    failed += 1
                    statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1

        started = time.monotonic()
        await asyncio.gather(*(one(n) for n in range(clients)))
        if statuses:
            print(f"  {operation}: refused {statuses}")
        return done / (time.monotonic() - started), failed


def fsync_ms(directory: Path) -> float:
    path = directory / "fsync-probe"
    handle = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        started = time.perf_counter()
        for _ in range(20):
            os.write(handle, b"x" * 100)
            os.fsync(handle)
        return (time.perf_counter() - started) / 20 * 1000
    finally:
        os.close(handle)
        path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    results: dict[tuple[str, str], tuple[float, int]] = {}
    with tempfile.TemporaryDirectory() as folder:
        state = Path(folder) / "state.db"
        for label, extra in (("in memory", []), ("--state", ["--state", str(state)])):
            command = fake_command(seed=0)
            with LocalServer.start(lambda port, c=command, e=extra: [*c(port), *e]) as server:
                for operation in ("create", "create/delete"):
                    results[label, operation] = asyncio.run(
                        rate(server.base_url, args.seconds, args.clients, operation)
                    )
        probe = fsync_ms(Path(folder))
    print(f"{args.clients} clients, {args.seconds:.0f} s each; load average {os.getloadavg()[0]:.2f}")
    print(f"one fsync on the state file's disk: {probe:.1f} ms")
    for operation in ("create", "create/delete"):
        memory, _ = results["in memory", operation]
        durable, failed = results["--state", operation]
        print(
            f"  {operation:<15} in memory {memory:8.0f}/s   --state {durable:8.0f}/s   "
            f"ratio {durable / memory:5.2f}   (refused with --state: {failed})"
        )


if __name__ == "__main__":
    main()

"""Requests per second of the fake against a bare Starlette app in the same run, on loopback.

Prints figures; asserts nothing. The ratio is what to read: the machines are noisy.
    python bench/server_throughput.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import httpx

from contracts.server import LocalServer, fake_command

BARE_APP = """
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
async def training(request):
    return JSONResponse({"workloadId": request.path_params["wid"], "actualPhase": "Running"})
async def spec(request):
    return JSONResponse({})
app = Starlette(routes=[Route("/api/v1/workloads/trainings/{wid}", training), Route("/api/v1/openapi.json", spec)])
"""


def bare_command(script: Path):
    def command(port: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "--app-dir",
            str(script.parent),
            f"{script.stem}:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ]

    return command


def measure(base: str, path: str, headers: dict[str, str], requests: int) -> tuple[float, float]:
    """Sequential GETs on one keep-alive connection: (requests per second, p95 latency in ms)."""
    latencies = []
    with httpx.Client(base_url=base, headers=headers) as client:
        for _ in range(50):
            client.get(path)
        start = time.perf_counter()
        for _ in range(requests):
            t0 = time.perf_counter()
            client.get(path).raise_for_status()
            latencies.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - start
    return requests / elapsed, statistics.quantiles(latencies, n=20)[18] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    script = Path(__file__).resolve().parent / "_bare_app.py"
    script.write_text(BARE_APP)
    try:
        with LocalServer.start(bare_command(script)) as bare:
            bare_rps, bare_p95 = measure(bare.base_url, "/api/v1/workloads/trainings/x", {}, args.requests)
        with LocalServer.start(fake_command(seed=0)) as fake:
            token = httpx.post(
                fake.base_url + "/api/v1/token",
                json={"grantType": "app_token", "AppId": "mock-app", "AppSecret": "mock-secret"},
            ).json()["accessToken"]
            headers = {"Authorization": f"Bearer {token}"}
            body = {
                "name": "bench",
                "projectId": "1",
                "clusterId": "71f69d83-ba66-4822-adf5-55ce55efd210",
                "spec": {"image": "python:3.11", "compute": {"gpuDevicesRequest": 1}},
            }
            created = httpx.post(
                fake.base_url + "/api/v1/workloads/trainings", json=body, headers=headers
            ).json()
            path = f"/api/v1/workloads/trainings/{created['workloadId']}"
            fake_rps, fake_p95 = measure(fake.base_url, path, headers, args.requests)
    finally:
        script.unlink(missing_ok=True)
    print(f"{'server':<34}{'req/s':>10}{'p95 ms':>10}")
    print(f"{'bare Starlette (baseline)':<34}{bare_rps:>10.0f}{bare_p95:>10.2f}")
    print(f"{'mockserver GET training (auth)':<34}{fake_rps:>10.0f}{fake_p95:>10.2f}")
    print(f"ratio mockserver / baseline: {fake_rps / bare_rps:.2f}")


if __name__ == "__main__":
    main()

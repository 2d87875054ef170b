"""Whole, fractional, GPU-memory and MIG requests against the fake, and where the scheduler put each.

    mockserver --speed 10 &          # in one terminal: API 2.18 (MIG requests exist up to 2.23)
    python examples/gpu_requests.py  # --url http://127.0.0.1:8080 by default

Each training asks for GPUs a different way (`spec.compute`); the fake's scheduler places it the way the
Run:ai scheduler would (fractions share a device, a memory request becomes the fraction of the node's
device memory, a MIG profile takes a slice of a MIG node), and `/api/v1/workloads/{id}/pods` shows the
placement. Uses only httpx, which the package installs.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import httpx

REQUESTS: dict[str, dict[str, Any]] = {
    "whole-2": {"gpuDevicesRequest": 2},
    "half": {"gpuDevicesRequest": 1, "gpuRequestType": "portion", "gpuPortionRequest": 0.5},
    "memory-10g": {"gpuDevicesRequest": 1, "gpuRequestType": "memory", "gpuMemoryRequest": "10G"},
    "mig-1g": {"gpuDevicesRequest": 1, "gpuRequestType": "migProfile", "migProfile": "1g.5gb"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="the fake's base URL")
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for Running")
    args = parser.parse_args()
    with httpx.Client(base_url=args.url, timeout=10) as http:
        token = http.post(
            "/api/v1/token",
            json={"grantType": "client_credentials", "clientId": "mock-app", "clientSecret": "mock-secret"},
        ).json()["accessToken"]
        http.headers["Authorization"] = f"Bearer {token}"
        cluster = http.get("/api/v1/clusters").json()[0]["uuid"]
        ids = {}
        for name, compute in REQUESTS.items():
            body = {
                "name": f"gpu-{name}",
                "useGivenNameAsPrefix": True,
                "projectId": "1",
                "clusterId": cluster,
                "spec": {"image": "python:3.11", "command": "sleep 3600", "compute": compute},
            }
            answer = http.post("/api/v1/workloads/trainings", json=body)
            answer.raise_for_status()
            ids[name] = answer.json()["workloadId"]
        deadline = time.monotonic() + args.timeout
        for name, workload_id in ids.items():
            while (phase := http.get(f"/api/v1/workloads/{workload_id}").json()["phase"]) != "Running":
                if time.monotonic() > deadline:
                    raise SystemExit(f"{name}: still {phase} after {args.timeout} s")
                time.sleep(0.2)
            for pod in http.get(f"/api/v1/workloads/{workload_id}/pods").json()["pods"]:
                print(f"{name:<11} {pod['name']:<24} node={pod['nodeName']:<16} {_allocated(pod)}")
        for workload_id in ids.values():
            http.delete(f"/api/v1/workloads/trainings/{workload_id}")


def _allocated(pod: dict[str, Any]) -> str:
    allocated = pod.get("allocatedResources") or {}
    parts = [f"{key}={value}" for key, value in allocated.items() if value not in (None, [], 0)]
    return " ".join(parts)


if __name__ == "__main__":
    main()

"""Many clients at once on a live server with a running clock: creating, suspending, resuming, deleting
and racing on names for a bounded time. Afterwards nothing is lost or duplicated and the cluster's
invariants hold (issue 11)."""

from __future__ import annotations

import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from contracts.backend.server import HOST, LocalServer
from mockserver.cluster.phases import HOLDING

pytestmark = pytest.mark.slow

CLUSTER_ID = "71f69d83-ba66-4822-adf5-55ce55efd210"
TRAININGS = "/api/v1/workloads/trainings"
CLIENTS = 12
SECONDS = 6.0
MAX_OPS_PER_CLIENT = 400
NAMES = [f"race-{i}" for i in range(8)]  # few names, many clients: creates collide on purpose
EXPECTED = {
    "create": {200, 400},
    "suspend": {202, 404},
    "resume": {202, 404},
    "delete": {204, 404},
    "get": {200, 404},
}


@dataclass
class Ledger:
    """What the clients were told, shared between their threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    created: list[tuple[str, str, str]] = field(default_factory=list)  # (id, project, name)
    deleted: set[str] = field(default_factory=set)
    unexpected: list[str] = field(default_factory=list)
    operations: Counter[str] = field(default_factory=Counter)

    def ids(self) -> list[str]:
        with self.lock:
            return [workload_id for workload_id, _, _ in self.created]


def serve_command(port: int) -> list[str]:
    argv = [sys.executable, "-m", "mockserver", "--host", HOST, "--port", str(port), "--quiet"]
    return [*argv, "--clock", "realtime", "--speed", "20", "--seed", "5"]


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer.start(serve_command) as live:
        yield live


def token(base_url: str) -> str:
    body = {"grantType": "app_token", "AppId": "mock-app", "AppSecret": "mock-secret"}
    return str(httpx.post(base_url + "/api/v1/token", json=body, timeout=10).json()["accessToken"])


def client_loop(base_url: str, auth: dict[str, str], seed: int, ledger: Ledger, deadline: float) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=base_url, headers=auth, timeout=10) as client:
        for _ in range(MAX_OPS_PER_CLIENT):
            if time.monotonic() > deadline:
                return
            ids = ledger.ids()
            action = rng.choice(
                ["create"] * 4 + ["suspend", "resume", "delete", "get"] * 2 if ids else ["create"]
            )
            if action == "create":
                project, name = rng.choice(["1", "3"]), rng.choice(NAMES)
                compute = {"gpuDevicesRequest": rng.choice([0, 1, 2])}
                body = {
                    "name": name,
                    "projectId": project,
                    "clusterId": CLUSTER_ID,
                    "spec": {"image": "x", "compute": compute},
                }
                answer = client.post(TRAININGS, json=body)
                if answer.status_code == 200:
                    with ledger.lock:
                        ledger.created.append((answer.json()["workloadId"], project, name))
            else:
                workload_id = rng.choice(ids)
                path = f"{TRAININGS}/{workload_id}"
                if action == "get":
                    answer = client.get(path)
                elif action == "delete":
                    answer = client.delete(path)
                    if answer.status_code == 204:
                        with ledger.lock:
                            ledger.deleted.add(workload_id)
                else:
                    answer = client.post(f"{path}/{action}")
            with ledger.lock:
                ledger.operations[action] += 1
                if answer.status_code not in EXPECTED[action]:
                    ledger.unexpected.append(f"{action} -> {answer.status_code} {answer.text[:200]}")


def test_many_clients_lose_and_duplicate_nothing(server: LocalServer) -> None:
    auth = {"Authorization": f"Bearer {token(server.base_url)}"}
    ledger = Ledger()
    deadline = time.monotonic() + SECONDS
    threads = [
        threading.Thread(target=client_loop, args=(server.base_url, auth, seed, ledger, deadline))
        for seed in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + 30)
        assert not thread.is_alive(), "a client hung"
    assert not ledger.unexpected, ledger.unexpected[:10]
    assert sum(ledger.operations.values()) > 100, ledger.operations  # the load was real

    ids = [workload_id for workload_id, _, _ in ledger.created]
    assert len(ids) == len(set(ids)), "an id was handed out twice"
    with httpx.Client(base_url=server.base_url, headers=auth, timeout=10) as client:
        live: dict[tuple[str, str], str] = {}
        for workload_id, project, name in ledger.created:
            answer = client.get(f"{TRAININGS}/{workload_id}")
            if workload_id in ledger.deleted:
                assert answer.status_code == 404 or answer.json()["actualPhase"] == "Deleting"
                continue
            assert answer.status_code == 200, (
                f"{workload_id} was created and never deleted, but {answer.status_code}"
            )
            training = answer.json()
            assert (training["projectId"], training["name"]) == (project, name)
            assert (project, name) not in live, f"two live trainings named {name} in project {project}"
            live[(project, name)] = workload_id
        snapshot = client.get("/api/mock/v1/snapshot").json()
    assert_invariants(snapshot, set(live.values()))


def assert_invariants(snapshot: dict[str, Any], live: set[str]) -> None:
    trainings = {t["workloadId"]: t for t in snapshot["trainings"]}
    assert len(trainings) == len(snapshot["trainings"]), "a training is listed twice"
    assert live <= set(trainings), "a live training is missing from the cluster"
    holders: Counter[str] = Counter()
    for node in snapshot["nodes"]:
        assert node["cpuMillisUsed"] <= node["cpuMillis"] and node["memoryMiBUsed"] <= node["memoryMiB"]
        for device in node["devices"]:
            assert 0.0 <= device["allocated"] <= 1.0 + 1e-9, (node["name"], device)
            holders.update(device["holders"])
    placed = {job["id"]: job for job in snapshot["jobs"] if job["runningPods"]}
    for workload_id in holders:
        assert workload_id in trainings or any(
            load["workloadId"] == workload_id for load in snapshot["loads"]
        )
        if workload_id in trainings:
            assert trainings[workload_id]["actualPhase"] in {p.value for p in HOLDING}, trainings[workload_id]
            assert workload_id in placed
    for workload_id, training in trainings.items():
        if training["actualPhase"] in ("Stopped", "Completed", "Failed", "Pending", "Creating"):
            assert workload_id not in holders, (
                f"{training['actualPhase']} training {workload_id} holds a device"
            )

"""kill -9 during load with `--state`: after a restart every training answered 2xx before the kill is
there with its phase, no id is handed out again, and the clock goes on from where it was (issue 11)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.backend.server import HOST, LocalServer

pytestmark = pytest.mark.slow

CLUSTER_ID = "71f69d83-ba66-4822-adf5-55ce55efd210"
TRAININGS = "/api/v1/workloads/trainings"
CLIENTS = 6
LOAD_LIMIT = 90.0  # real seconds a load may take to reach what a stage needs


def command(state: Path) -> Callable[[int], list[str]]:
    def argv(port: int) -> list[str]:
        return [sys.executable, "-m", "mockserver", "--host", HOST, "--port", str(port), "--quiet",
                "--clock", "manual", "--seed", "9", "--state", str(state)]  # fmt: skip

    return argv


def token(base_url: str) -> dict[str, str]:
    body = {"grantType": "app_token", "AppId": "mock-app", "AppSecret": "mock-secret"}
    answer = httpx.post(base_url + "/api/v1/token", json=body, timeout=10)
    return {"Authorization": f"Bearer {answer.json()['accessToken']}"}


class Load:
    """Client threads that create (and in stage A also act on) trainings until told to stop."""

    def __init__(self, base_url: str, auth: dict[str, str]) -> None:
        self.base_url, self.auth = base_url, auth
        self.lock = threading.Lock()
        self.created: list[str] = []
        self.stop = threading.Event()

    def creator(self, who: int, act: bool) -> None:
        with httpx.Client(base_url=self.base_url, headers=self.auth, timeout=5) as client:
            for i in range(10_000):
                if self.stop.is_set():
                    return
                body = {"name": f"c{who}-{i}", "projectId": "1", "clusterId": CLUSTER_ID,
                        "spec": {"image": "x", "compute": {"gpuDevicesRequest": i % 3}}}  # fmt: skip
                try:
                    answer = client.post(TRAININGS, json=body)
                    if answer.status_code == 200:
                        with self.lock:
                            self.created.append(answer.json()["workloadId"])
                    if act and i % 3 == 1:
                        client.post(f"{TRAININGS}/{self.created[-1]}/suspend")
                    if act and i % 7 == 2:
                        client.delete(f"{TRAININGS}/{self.created[-1]}")
                except httpx.HTTPError:
                    return  # the server was killed under us

    def clock(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=5) as client:
            while not self.stop.wait(0.05):
                client.post("/api/mock/v1/clock/advance", json={"seconds": 1})

    def run(self, enough: Callable[[], bool], act: bool, then: Callable[[], None] = lambda: None) -> None:
        """Load until `enough()` holds (looked at a few times a second; at most LOAD_LIMIT real seconds):
        a busy machine makes fewer requests a second, so the test waits for what it needs, not a time."""
        threads = [threading.Thread(target=self.creator, args=(who, act)) for who in range(CLIENTS)]
        if act:
            threads.append(threading.Thread(target=self.clock))
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + LOAD_LIMIT
        while not enough() and time.monotonic() < deadline:
            time.sleep(0.2)
        then()
        self.stop.set()
        for thread in threads:
            thread.join(timeout=30)
            assert not thread.is_alive()


def observe(base_url: str, auth: dict[str, str], ids: list[str]) -> dict[str, Any]:
    with httpx.Client(base_url=base_url, headers=auth, timeout=10) as client:
        seen: dict[str, Any] = {}
        for workload_id in ids:
            answer = client.get(f"{TRAININGS}/{workload_id}")
            seen[workload_id] = answer.json() if answer.status_code == 200 else answer.status_code
        return {"trainings": seen, "clock": client.get("/api/mock/v1/clock").json()}


def test_kill_9_during_load_loses_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    server = LocalServer.start(command(state))
    try:
        auth = token(server.base_url)
        settled = Load(server.base_url, auth)

        def settled_enough() -> bool:
            if len(settled.created) <= 30:
                return False
            seen = observe(server.base_url, auth, list(settled.created))
            phases = {t["actualPhase"] for t in seen["trainings"].values() if isinstance(t, dict)}
            return seen["clock"]["now"] > "2025-01-01T00:00:05" and phases >= {"Stopped", "Running"}

        settled.run(settled_enough, act=True)  # creates, suspends, deletes while the clock moves
        before = observe(server.base_url, auth, settled.created)
        assert len(settled.created) > 30 and before["clock"]["now"] > "2025-01-01T00:00:05"
        assert {t["actualPhase"] for t in before["trainings"].values() if isinstance(t, dict)} >= {
            "Stopped",
            "Running",
        }

        in_flight = Load(server.base_url, auth)
        # SIGKILL in the middle of creates, once a few have been answered.
        in_flight.run(lambda: len(in_flight.created) > 10, act=False, then=server.process.kill)
        assert server.process.wait(10) == -9
    finally:
        server.stop()

    with LocalServer.start(command(state)) as restarted:
        auth = token(restarted.base_url)
        after = observe(restarted.base_url, auth, settled.created)
        assert after == before, "a training or the clock differs after the restart"
        answered = observe(restarted.base_url, auth, in_flight.created)["trainings"]
        assert len(answered) > 5
        missing = [workload_id for workload_id, seen in answered.items() if not isinstance(seen, dict)]
        assert not missing, f"answered 200 before the kill, gone after it: {missing[:5]}"
        assert {seen["actualPhase"] for seen in answered.values()} == {"Creating"}  # the clock did not move

        with httpx.Client(base_url=restarted.base_url, headers=auth, timeout=10) as client:
            assert client.post("/api/mock/v1/clock/advance", json={"seconds": 1}).status_code == 200
            body = {
                "name": "after-the-kill",
                "projectId": "1",
                "clusterId": CLUSTER_ID,
                "spec": {"image": "x"},
            }
            fresh = client.post(TRAININGS, json=body)
            assert fresh.status_code == 200
            assert fresh.json()["workloadId"] not in set(settled.created) | set(in_flight.created)
            assert client.get("/api/mock/v1/clock").json()["now"] > before["clock"]["now"]

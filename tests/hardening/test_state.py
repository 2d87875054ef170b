"""Durable state (`--state FILE`) in-process: a restart rebuilds the same cluster; bad files are refused."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

from mockserver.app import create_app
from mockserver.persistence import StateFileError
from mockserver.persistence.commands import FAULT_SETTINGS
from tests.conftest import training

TOKEN_BODY = {"grantType": "app_token", "AppId": "mock-app", "AppSecret": "mock-secret"}


class Server:
    """One server run on a state file, through the in-process client."""

    def __init__(self, path: Path, **options: Any) -> None:
        self.app = create_app(state_file=path, **options)
        # Snapshots when the tests take them: the count of commands replayed at start is then exact.
        self.app.mock_durability.snapshot_every_work = float("inf")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self.client = self.app.test_client()
        token = self.client.post("/api/v1/token", json=TOKEN_BODY).json()["accessToken"]
        self.auth = {"Authorization": f"Bearer {token}"}

    def close(self) -> None:
        """Stop as a server process does: the state file is free for the next run."""
        self.app.mock_durability.store.close()

    def create(self, name: str, **spec: Any) -> str:
        answer = self.client.post(
            "/api/v1/workloads/trainings", json=training(name, **spec), headers=self.auth
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["workloadId"])

    def act(self, workload_id: str, verb: str) -> None:
        answer = self.client.post(f"/api/v1/workloads/trainings/{workload_id}/{verb}", headers=self.auth)
        assert answer.status_code == 202

    def control(self, method: str, path: str, body: Any = None) -> Any:
        answer = self.client.request(
            method, f"/api/mock/v1{path}", json=body, headers={"X-Mock-Control": "1"}
        )
        assert answer.status_code < 300, answer.text
        return answer.json() if answer.content else None

    def trainings(self, ids: list[str]) -> dict[str, Any]:
        seen = {}
        for workload_id in ids:
            answer = self.client.get(f"/api/v1/workloads/trainings/{workload_id}", headers=self.auth)
            seen[workload_id] = answer.json() if answer.status_code == 200 else answer.status_code
        return seen

    def observed(self, ids: list[str]) -> dict[str, Any]:
        """Everything a client can see: trainings, clock, event log, faults, loads (snapshot)."""
        snapshot = self.control("GET", "/snapshot")
        return {
            "trainings": self.trainings(ids),
            "clock": self.control("GET", "/clock"),
            "events": self.control("GET", "/events?after=0&limit=10000"),
            "faults": self.control("GET", "/faults"),
            "loads": snapshot.get("loads"),
        }


def busy_history(server: Server) -> list[str]:
    ids = [server.create(f"job-{i}", compute={"gpuDevicesRequest": 2}) for i in range(6)]
    ids.append(server.create("prefixed", useGivenNameAsPrefix=True))
    server.control("POST", "/clock/advance", {"seconds": 5})
    server.act(ids[0], "suspend")
    server.control(
        "POST", "/workloads", {"name": "squatter", "projectId": "3", "compute": {"gpuDevicesRequest": 1}}
    )
    server.control("PUT", "/faults", {"latencySeconds": 0.001, "errorRate": 0.0})
    server.control("POST", "/clock/advance", {"seconds": 2})
    server.act(ids[0], "resume")
    assert (
        server.client.delete(f"/api/v1/workloads/trainings/{ids[1]}", headers=server.auth).status_code < 300
    )
    server.control("POST", f"/trainings/{ids[2]}/outcome", {"outcome": "Failed"})
    server.control("POST", "/clock/advance", {"seconds": 30})
    return ids


def test_a_restart_rebuilds_everything_a_client_could_see(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first = Server(path, seed=None)
    ids = busy_history(first)
    before = first.observed(ids)
    assert before["trainings"][ids[1]] == 404 and before["faults"]["latencySeconds"] == 0.001
    assert len(before["events"]["events"]) > 20 and before["loads"]

    first.close()
    second = Server(path, seed=None)  # the seed was random: the file remembers it
    # 7 creates, 8 other commands to the cluster, and what one PUT /faults made: a row per fault setting
    # and the cluster told whether it is connected.
    assert second.app.mock_durability.replayed == 15 + len(FAULT_SETTINGS) + 1
    assert second.observed(ids) == before
    new_id = second.create("after-restart")
    assert new_id not in ids, "a restart must never hand out an id again"
    second.control("POST", "/clock/advance", {"seconds": 1})
    assert second.control("GET", "/clock")["now"] > before["clock"]["now"]


def test_a_reset_is_replayed_too(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first = Server(path)
    old = first.create("before-reset")
    first.control("POST", "/clock/advance", {"seconds": 100})
    first.control("POST", "/reset")
    kept = first.create("after-reset")
    first.close()
    second = Server(path)
    assert second.trainings([old, kept]) == first.trainings([old, kept])
    assert second.control("GET", "/clock") == first.control("GET", "/clock")


def test_on_a_realtime_clock_time_goes_on_across_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first = Server(path, clock="realtime", speed=1000.0)
    ids = [first.create(f"realtime-{i}") for i in range(3)]
    created = {i: t["createdAt"] for i, t in first.trainings(ids).items()}
    then = first.control("GET", "/clock")["now"]
    first.close()
    second = Server(path, clock="realtime", speed=1000.0)
    assert second.control("GET", "/clock")["now"] >= then
    # Each change ran on a clock held still, so replay, pinned to the recorded time, gives the same times.
    assert {i: t["createdAt"] for i, t in second.trainings(ids).items()} == created
    assert second.create("next") not in ids


def test_refused_commands_are_not_kept(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first = Server(path)
    refused = first.client.post("/api/v1/workloads/trainings", json=training("Bad_Name"), headers=first.auth)
    assert refused.status_code == 400
    first.create("good")
    first.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM commands").fetchone()[0] == 1


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The bytes of a good state file (seed 0, API 2.18, manual clock) with one training."""
    path = tmp_path_factory.mktemp("ours") / "state.db"
    server = Server(path)
    server.create("x")
    server.close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything into the main file, to copy it
    return path.read_bytes()


@pytest.mark.parametrize(
    ("content", "options", "complaint"),
    [
        ("garbage", {}, "not a mockserver state file (file is not a database)"),
        ("foreign", {}, "an SQLite database of something else (tables: users)"),
        ("ours", {"api": "latest"}, "written by a server with other settings: api '2.18' (now 'latest')."),
        (
            "ours",
            {"clock": "realtime"},
            "written by a server with other settings: clock 'manual' (now 'realtime').",
        ),
        ("ours", {"seed": 99}, "written with --seed 0, not 99"),
        ("truncated", {}, "damaged: database disk image is malformed"),
    ],
)
def test_bad_state_files_are_refused_with_a_clear_message(
    tmp_path: Path, ours: bytes, content: str, options: dict[str, Any], complaint: str
) -> None:
    path = tmp_path / "state.db"
    if content == "foreign":
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE users (name TEXT)")
    else:
        path.write_bytes(
            {"garbage": b"not a database at all " * 50, "ours": ours, "truncated": ours[:3000]}[content]
        )
    with pytest.raises(StateFileError) as refused:
        create_app(state_file=path, **options)
    assert str(refused.value).startswith(f"{path}: {complaint}")


def test_a_state_file_serves_one_server_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first = Server(path)
    with pytest.raises(StateFileError, match="in use by another running server"):
        create_app(state_file=path)
    first.close()
    assert Server(path).create("then-it-is-free")


def test_a_directory_is_no_state_file(tmp_path: Path) -> None:
    with pytest.raises(StateFileError, match="is a directory"):
        create_app(state_file=tmp_path)


def test_the_cli_refuses_a_bad_state_file_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mockserver.cli import main

    path = tmp_path / "state.db"
    path.write_bytes(b"not a database at all " * 50)
    assert main(["--port", "0", "--quiet", "--state", str(path)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"mockserver: cannot use the state file: {path}: not a mockserver state file")


def test_the_settings_digest_is_the_same_in_every_process() -> None:
    """Sets in the configuration (an account's projects) print in an order that depends on the process's
    string-hash seed; a restart of the same server must still recognise its own settings."""
    program = (
        "import dataclasses\n"
        "from mockserver.config import Account, load_config\n"
        "from mockserver.persistence import config_digest\n"
        "projects = frozenset(f'p{n}' for n in range(12))\n"
        "config = dataclasses.replace(load_config(None), accounts=(Account('a', 's', 'a@x', projects),))\n"
        "print(config_digest(config))\n"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", program],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
        ).stdout
        for seed in range(6)
    }
    assert len(digests) == 1, digests

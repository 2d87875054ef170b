"""The journal records the commands the cluster carried out (typed arguments, principal), not requests.

Replay calls the cluster itself: it needs neither the HTTP layer nor a token that is still valid, and
an old state file of HTTP requests is refused with a clear message (exit 2).
"""

from __future__ import annotations

import inspect
import sqlite3
from pathlib import Path

import pytest

from mockserver.app import create_app
from mockserver.cluster.cluster import FakeCluster
from mockserver.cluster.kinds import TRAINING, WORKSPACE
from mockserver.cluster.request import WorkloadRequest
from mockserver.http.auth import Principal
from mockserver.persistence import StateFileError, codec
from mockserver.persistence.commands import CLUSTER_COMMANDS, CLUSTER_QUERIES
from tests.conftest import CLUSTER_ID
from tests.hardening.test_state import Server


def raw_rows(path: Path) -> list[tuple[str, str, str | None, bytes]]:
    with sqlite3.connect(path) as db:
        return list(db.execute("SELECT target, operation, principal, arguments FROM commands ORDER BY seq"))


def test_every_public_method_of_the_cluster_is_a_command_or_a_query() -> None:
    public = {
        name
        for name, member in inspect.getmembers(FakeCluster)
        if not name.startswith("_") and (inspect.isfunction(member) or isinstance(member, property))
    }
    # A method missing here would change the cluster without being journalled (or be journalled needlessly).
    assert public == CLUSTER_COMMANDS | CLUSTER_QUERIES
    assert not CLUSTER_COMMANDS & CLUSTER_QUERIES


def test_a_row_is_the_parsed_command_and_the_resolved_principal(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    server = Server(path)
    workload_id = server.create("typed", compute={"gpuDevicesRequest": 1})
    server.act(workload_id, "suspend")
    server.control("POST", "/clock/advance", {"seconds": 3})
    server.close()
    recorded = raw_rows(path)
    assert [(target, operation, principal) for target, operation, principal, _ in recorded] == [
        ("cluster", "submit", "mock-app"),
        ("cluster", "suspend", "mock-app"),
        ("cluster", "advance", None),  # the control API: no application
    ]
    (request, caller, *_), _ = codec.loads(recorded[0][3])
    assert isinstance(request, WorkloadRequest) and request.name == "typed"
    assert isinstance(request.pod, object) and caller == Principal("mock-app", caller.email, caller.projects)
    (suspended, suspender, *_), _ = codec.loads(recorded[1][3])
    assert (suspended, suspender.client_id) == (workload_id, "mock-app")
    assert codec.loads(recorded[2][3]) == ((3,), {})
    assert b"Bearer" not in b"".join(r[3] for r in recorded), "no request head is kept"


def test_a_kind_is_written_by_name_and_read_back_as_the_same_object() -> None:
    for kind in (TRAINING, WORKSPACE):
        assert codec.loads(codec.dumps({"kind": kind}))["kind"] is kind
        assert kind.name.encode() in codec.dumps(kind)  # by reference: its module attribute, not a copy


def test_reading_refuses_anything_but_the_fakes_own_objects() -> None:
    evil = b"cos\nsystem\n(S'echo pwned'\ntR."  # protocol 0: os.system('echo pwned')
    with pytest.raises(codec.UnreadableRecord, match=r"os\.system"):
        codec.loads(evil)


def test_replay_does_not_depend_on_tokens_or_http(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first = Server(path, token_secret="first-secret")
    ids = [first.create(f"job-{i}") for i in range(3)]
    first.act(ids[0], "suspend")
    seen = first.trainings(ids)
    first.close()
    # Another signing key: every token the first run handed out is invalid now; replay still runs.
    second = Server(path, token_secret="another-secret")
    assert second.app.mock_durability.replayed == 4
    assert second.trainings(ids) == seen


def test_a_state_file_of_http_requests_is_refused_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mockserver.cli import main

    path = tmp_path / "state.db"
    Server(path).close()
    with sqlite3.connect(path) as db:  # what a server of format 2 wrote
        db.execute("UPDATE meta SET value = '2' WHERE key = 'format_version'")
    with pytest.raises(StateFileError, match=r"state format 2 .* is not read any more"):
        create_app(state_file=path)
    assert main(["--port", "0", "--quiet", "--state", str(path)]) == 2
    assert "start with a new --state file" in capsys.readouterr().err.lower()


def test_chaos_moves_and_an_inference_patch_are_journalled_and_replayed(tmp_path: Path) -> None:
    """Both go through cluster methods that take a callable: a record (frozen dataclass), so the journal
    can keep it; a closure could not be written and the move would be lost at the next start."""
    path = tmp_path / "state.db"
    first = Server(path, api="latest")
    first.control("POST", "/nodes/down", {"node": "node-default-1"})
    first.control("POST", "/projects/quota", {"projectId": "1", "gpus": 1})
    body = {"name": "serve", "projectId": "1", "clusterId": CLUSTER_ID, "spec": {"image": "nginx"}}
    created = first.client.post("/api/v1/workloads/inferences", json=body, headers=first.auth)
    assert created.status_code == 202, created.text
    inference_id = created.json()["workloadId"]
    patch = {"spec": {"image": "nginx:2"}}
    patched = first.client.patch(
        f"/api/v1/workloads/inferences/{inference_id}", json=patch, headers=first.auth
    )
    assert patched.status_code == 202, patched.text
    before = first.control("GET", "/snapshot")
    first.close()
    assert {"change", "update"} <= {operation for _, operation, _, _ in raw_rows(path)}

    again = Server(path, api="latest")
    after = again.control("GET", "/snapshot")
    down = [node["name"] for node in after["nodes"] if not node.get("ready", True)]
    assert down == ["node-default-1"]
    assert after["nodes"] == before["nodes"]
    answer = again.client.get(f"/api/v1/workloads/inferences/{inference_id}", headers=again.auth)
    assert answer.status_code == 200 and answer.json()["spec"]["image"] == "nginx:2"
    again.close()

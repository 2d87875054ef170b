"""Write-ahead for real and damaged state files (issue 21, items 1, 3 and 4).

A command changes memory only once its row is on disk: a disk fault (SQLite's page limit, a real
"database or disk is full") is a 503 and nothing changes. A damaged file — cut short, emptied, zeroed,
a row altered — is refused with a clear message unless `--state-recover` is given, which keeps the
commands before the damage and says how many it dropped; the damaged file is never overwritten.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from mockserver.app import create_app
from mockserver.persistence import StateFileDamaged
from tests.conftest import training
from tests.hardening.test_state import Server

COUNT = 30


def history(path: Path) -> list[str]:
    """A closed state file holding COUNT created trainings, in order; their ids."""
    server = Server(path)
    ids = [server.create(f"job-{i}") for i in range(COUNT)]
    server.close()
    return ids


def listed(server: Server) -> list[str]:
    answer = server.client.get("/api/v1/workloads", headers=server.auth)
    return sorted(w["id"] for w in answer.json()["workloads"])


def test_a_failed_journal_write_is_a_503_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    server = Server(path)
    kept = server.create("kept")
    db = server.app.mock_durability.store._db
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full: a large row cannot be written
    before = (listed(server), server.observed([kept]))
    big = training("too-much", environmentVariables=[{"name": "PAD", "value": "x" * 20000}])
    refused = server.client.post("/api/v1/workloads/trainings", json=big, headers=server.auth)
    assert refused.status_code == 503
    assert refused.json()["code"] == 503 and "not carried out" in refused.json()["message"]
    assert (listed(server), server.observed([kept])) == before
    db.execute("PRAGMA max_page_count = 1073741823")
    db.execute("PRAGMA query_only = 1")  # the disk refuses every write now (as a read-only remount)
    suspend = server.client.post(f"/api/v1/workloads/trainings/{kept}/suspend", headers=server.auth)
    advance = server.client.post(
        "/api/mock/v1/clock/advance", json={"seconds": 60}, headers={"X-Mock-Control": "1"}
    )
    assert (suspend.status_code, advance.status_code) == (503, 503)
    assert (listed(server), server.observed([kept])) == before  # nothing changed in memory
    db.execute("PRAGMA query_only = 0")  # writable again
    second = server.create("after-the-fault")
    server.act(kept, "suspend")
    seen = server.observed([kept, second])
    server.close()
    # The file has exactly what was carried out: a restart sees what the clients saw.
    again = Server(path)
    assert again.app.mock_durability.replayed == 3
    assert again.observed([kept, second]) == seen


def test_duplicate_authorization_is_refused_before_anything_runs_or_is_recorded(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    server = Server(path)
    token = server.auth["Authorization"]
    for second in ("Bearer garbage", token):
        answer = server.client.post(
            "/api/v1/workloads/trainings",
            json=training("twice"),
            headers=[("Authorization", token), ("Authorization", second)],
        )
        assert answer.status_code == 400 and "Authorization header was sent more than once" in answer.text
    assert listed(server) == []
    server.create("once")
    server.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM commands").fetchone()[0] == 1
    assert Server(path).app.mock_durability.replayed == 1  # the file still starts


def _refused(path: Path, *complaints: str) -> None:
    before = path.read_bytes()
    with pytest.raises(StateFileDamaged) as refused:
        create_app(state_file=path)
    message = str(refused.value)
    assert message.startswith(tuple(f"{path}: damaged: {c}" for c in complaints)), message
    assert "--state-recover" in message
    assert path.read_bytes() == before, "a refused file is left as it was"


def test_a_file_cut_short_is_refused_then_recovered_to_its_valid_prefix(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    ids = history(path)
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) * 9 // 10])
    _refused(path, "database disk image is malformed", "the database is corrupt")
    app = create_app(state_file=path, state_recover=True)
    recovered = app.mock_durability.recovered
    assert recovered is not None and recovered.moved_to.read_bytes() == whole[: len(whole) * 9 // 10]
    assert (
        recovered.kept + (recovered.dropped or 0) <= COUNT and recovered.kept == app.mock_durability.replayed
    )
    assert f"kept the first {recovered.kept} commands" in recovered.summary()
    app.mock_durability.store.close()
    server = Server(path)  # the recovered file is a healthy one: no flag needed any more
    assert listed(server) == sorted(ids[: recovered.kept]), "exactly the commands before the damage"


@pytest.mark.parametrize("content", ["empty", "zeros"])
def test_an_emptied_file_is_refused_and_recovers_to_nothing(tmp_path: Path, content: str) -> None:
    path = tmp_path / "state.db"
    history(path)
    size = path.stat().st_size
    path.write_bytes(b"" if content == "empty" else bytes(size))
    _refused(path, "the file is empty" if content == "empty" else "the file holds only zero bytes")
    app = create_app(state_file=path, state_recover=True)
    recovered = app.mock_durability.recovered
    assert recovered is not None and recovered.kept == 0 and app.mock_durability.replayed == 0
    assert "dropped an unknown number of commands" in recovered.summary() or recovered.dropped == 0


def test_an_altered_row_fails_its_checksum_and_recovery_keeps_the_rows_before_it(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    ids = history(path)
    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE commands SET arguments = CAST(replace(CAST(arguments AS TEXT), 'job-11', 'evil-1') AS BLOB) "
            "WHERE seq = 12"
        )
    _refused(path, "command 12 does not match its checksum")
    app = create_app(state_file=path, state_recover=True)
    recovered = app.mock_durability.recovered
    assert recovered is not None and (recovered.kept, recovered.dropped) == (11, COUNT - 11)
    app.mock_durability.store.close()
    assert listed(Server(path)) == sorted(ids[:11])


def test_every_acknowledged_command_is_in_the_main_file_whatever_happens_to_the_journals(
    tmp_path: Path,
) -> None:
    """A copy of the main file taken while the server runs (as after a kill -9, with the -journal or
    -wal file lost) holds every command answered so far: nothing lives only in a side file."""
    path = tmp_path / "state.db"
    server = Server(path)
    ids = [server.create(f"live-{i}") for i in range(10)]
    copy = tmp_path / "copy.db"
    shutil.copyfile(path, copy)
    assert not (tmp_path / "copy.db-wal").exists() and not (tmp_path / "copy.db-journal").exists()
    assert sorted(ids) == listed(Server(copy))


def test_the_cli_refuses_a_damaged_file_with_exit_2_and_names_the_way_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mockserver.cli import main

    path = tmp_path / "state.db"
    history(path)
    path.write_bytes(b"")
    assert main(["--port", "0", "--quiet", "--state", str(path)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"mockserver: cannot use the state file: {path}: damaged: the file is empty")
    assert "--state-recover" in error and path.read_bytes() == b""

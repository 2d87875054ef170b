"""Snapshots compact the journal; a crash at any point of taking one loses nothing acknowledged.

Each crash point is injected in-process: the step raises `Crash` (not an Exception, so nothing on the
way catches it) and the "process" then ends without writing anything more (the store's connection is
closed as a kill would leave it). The restart must show what the clients saw.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from mockserver.app import create_app
from mockserver.persistence import StateFileDamaged, snapshot
from mockserver.persistence.commands import FAULT_SETTINGS
from mockserver.persistence.store import StateStore
from tests.hardening.test_state import Server


class Crash(BaseException):
    """The process dies here."""


def rows_left(server: Server) -> list[int]:
    db = server.app.mock_durability.store._db  # the server holds the file: read through its connection
    return [seq for (seq,) in db.execute("SELECT seq FROM commands ORDER BY seq")]


# The rows of one PUT /faults: one per fault setting, and the cluster told whether it is connected.
FAULTS_ROWS = len(FAULT_SETTINGS) + 1


def history(server: Server, count: int) -> list[str]:
    """`count` creates, a suspend, a clock advance and a PUT /faults: count + 2 + FAULTS_ROWS commands."""
    ids = [server.create(f"job-{i}", compute={"gpuDevicesRequest": 1}) for i in range(count)]
    server.act(ids[0], "suspend")
    server.control("POST", "/clock/advance", {"seconds": 7})
    server.control("PUT", "/faults", {"latencySeconds": 0.002, "errorRate": 0.0})
    return ids


def die(server: Server) -> None:
    """What a kill leaves: the file as it is on disk, nothing flushed on the way out."""
    server.app.mock_durability.store._db.close()


def test_a_restart_after_compaction_reads_the_snapshot_and_the_tail_only(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first = Server(path)
    first.app.mock_durability.snapshot_every = 10
    ids = history(first, 22)
    total = 22 + 2 + FAULTS_ROWS
    assert total < 30  # so that two snapshots are due (after commands 10 and 20), not three
    seen = first.observed(ids)
    durable = first.app.mock_durability
    durable.wait_for_snapshot()
    # A forked writer started after command 10, another after command 20, or — when the first was still
    # writing at command 20 (a loaded machine) — at the next change after it finished: here, the first
    # look after the history (as the server looks after every change). Two snapshots either way, and the
    # rows after the last one are all that is left.
    durable.snapshot_if_due()
    durable.wait_for_snapshot()
    covered = durable.snapshot_seq
    assert durable.snapshots_taken == 2 and 20 <= covered <= total
    assert rows_left(first) == list(range(covered + 1, total + 1))
    assert snapshot.snapshot_path(path).exists()
    first.close()
    second = Server(path)
    assert second.app.mock_durability.snapshot_seq == covered
    assert second.app.mock_durability.replayed == total - covered  # the tail only, not all
    assert second.observed(ids) == seen
    new = second.create("after-the-restart")
    assert new not in ids
    # The restored cluster goes on journalling and snapshotting.
    second.app.mock_durability.take_snapshot()
    second.close()
    third = Server(path)
    assert third.app.mock_durability.replayed == 0
    assert third.trainings([*ids, new]) == second.trainings([*ids, new])


@pytest.mark.parametrize("forked", [True, False], ids=["forked-writer", "in-process"])
@pytest.mark.parametrize("point", ["writing", "fsync", "rename", "compact"])
def test_a_crash_at_any_point_of_a_snapshot_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, point: str, forked: bool
) -> None:
    """In-process, the crash ends the server at that point; with a forked writer, the copy dies there
    (the server sees no snapshot come) and then the server is killed too."""
    path = tmp_path / "state.db"
    first = Server(path)
    first.app.mock_durability.fork_snapshots = forked
    ids = history(first, 6)
    assert first.app.mock_durability.take_snapshot()  # an earlier snapshot is in place
    ids += [first.create(f"later-{i}") for i in range(4)]
    first.act(ids[1], "suspend")
    seen = first.observed(ids)

    def crash(*_: Any, **__: Any) -> None:
        raise Crash(point)

    target: dict[str, tuple[object, str]] = {  # "writing": the temporary file's own write, below
        "fsync": (snapshot.os, "fsync"),
        "rename": (snapshot.os, "replace"),
        "compact": (StateStore, "compact"),
    }
    if point == "writing":
        real_open = Path.open

        def half_written(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            file = real_open(self, mode, *args, **kwargs)
            if ".snapshot.tmp" in self.name:
                file.write(b'runai-mockserver-snapshot 1\n{"seq": 9')
                file.close()
                raise Crash(point)
            return file

        monkeypatch.setattr(Path, "open", half_written)
    else:
        owner, name = target[point]
        monkeypatch.setattr(owner, name, crash)
    if forked and point != "compact":  # the copy crashed: no snapshot, the server goes on
        assert not first.app.mock_durability.take_snapshot()
    else:
        with pytest.raises(Crash):
            first.app.mock_durability.take_snapshot()
    monkeypatch.undo()
    die(first)
    second = Server(path)
    assert second.observed(ids) == seen
    assert not list(tmp_path.glob("state.db.snapshot.tmp*"))  # a leftover is removed at start
    if point == "compact":  # the new snapshot is in place, the rows it covers still in the journal
        assert second.app.mock_durability.replayed == 0
    else:
        assert second.app.mock_durability.replayed == 5  # the old snapshot and the rows after it


def test_a_snapshot_that_cannot_be_written_keeps_every_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.db"
    first = Server(path)
    ids = history(first, 5)
    seen = first.observed(ids)

    def disk_full(*_: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(snapshot.os, "fsync", disk_full)
    assert not first.app.mock_durability.take_snapshot()
    monkeypatch.undo()
    assert len(rows_left(first)) == 5 + 2 + FAULTS_ROWS and not snapshot.snapshot_path(path).exists()
    first.close()
    assert Server(path).observed(ids) == seen


def _compacted(path: Path) -> tuple[list[str], dict[str, Any]]:
    first = Server(path)
    ids = history(first, 6)
    assert first.app.mock_durability.take_snapshot()
    ids.append(first.create("in-the-tail"))
    seen = first.trainings(ids)
    first.close()
    return ids, seen


@pytest.mark.parametrize("damage", ["flipped", "cut", "missing", "older"])
def test_a_damaged_snapshot_is_refused_unless_recovering(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "state.db"
    _compacted(path)
    file = snapshot.snapshot_path(path)
    data = file.read_bytes()
    complaint = {
        "flipped": "does not match its checksum",
        "cut": "does not match its checksum",
        "missing": "is missing",
        "older": "the journal needs one up to",
    }[damage]
    if damage == "flipped":
        file.write_bytes(data[:-100] + bytes([data[-100] ^ 1]) + data[-99:])
    elif damage == "cut":
        file.write_bytes(data[: len(data) // 2])
    elif damage == "missing":
        file.unlink()
    else:
        with sqlite3.connect(path) as db:  # the journal expects a later snapshot than the one in place
            (stored,) = db.execute("SELECT value FROM meta WHERE key = 'snapshot'").fetchone()
            later = {**json.loads(stored), "seq": json.loads(stored)["seq"] + 5}
            db.execute("UPDATE meta SET value = ? WHERE key = 'snapshot'", (json.dumps(later),))
    with pytest.raises(StateFileDamaged, match=complaint) as refused:
        create_app(state_file=path)
    assert "--state-recover" in str(refused.value)
    app = create_app(state_file=path, state_recover=True)
    recovered = app.mock_durability.recovered
    # The commands after a lost snapshot cannot run on anything: none is kept, and the banner says so.
    assert recovered is not None and recovered.kept == 0 and recovered.dropped == 1
    assert app.mock_state.cluster.workloads() == []
    assert path.with_name("state.db.damaged").exists()


def test_the_cli_refuses_a_damaged_snapshot_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mockserver.cli import main

    path = tmp_path / "state.db"
    _compacted(path)
    snapshot.snapshot_path(path).write_bytes(b"garbage")
    assert main(["--port", "0", "--quiet", "--clock", "manual", "--state", str(path)]) == 2
    error = capsys.readouterr().err
    assert "is not a snapshot" in error and "--state-recover" in error


def test_recovery_keeps_a_good_snapshot_and_the_rows_before_the_damage(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first = Server(path)
    ids = history(first, 4)
    assert first.app.mock_durability.take_snapshot()
    ids += [first.create(f"tail-{i}") for i in range(4)]
    seen = first.trainings(ids)
    first.close()
    with sqlite3.connect(path) as db:  # the third row of the tail is garbled
        (seq,) = db.execute("SELECT seq FROM commands ORDER BY seq LIMIT 1 OFFSET 2").fetchone()
        db.execute("UPDATE commands SET arguments = X'00' WHERE seq = ?", (seq,))
    with pytest.raises(StateFileDamaged, match=f"command {seq} does not match its checksum"):
        create_app(state_file=path)
    app = create_app(state_file=path, state_recover=True)
    recovered = app.mock_durability.recovered
    assert recovered is not None and (recovered.kept, recovered.dropped) == (2, 2)
    assert app.mock_durability.snapshot_seq == seq - 3 and app.mock_durability.replayed == 2
    app.mock_durability.store.close()
    again = Server(path)
    # The snapshot's trainings and the first two of the tail are back, exactly as they were.
    assert again.trainings(ids[:6]) == {i: seen[i] for i in ids[:6]}
    assert set(again.trainings(ids[6:]).values()) == {404}


def test_a_forked_writer_whose_server_died_puts_nothing_in_place(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first = Server(path)
    history(first, 3)
    first.close()
    # The writer asks before its rename whether its server is still there; here it is not.
    with pytest.raises(OSError, match="is gone"):
        snapshot.write(path, 9, 0.0, b"payload", lambda: False)
    assert not snapshot.snapshot_path(path).exists() and not list(tmp_path.glob("state.db.snapshot.tmp*"))

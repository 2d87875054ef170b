"""`--state-recover`: keep the valid prefix of a damaged state file and say how much was dropped.

The damaged file is never overwritten: it is moved aside (`FILE.damaged`, `FILE.damaged-2` …) and a
new file at the same path receives its settings and every command up to the first one that cannot
be read or fails its checksum. Without its settings (seed, identity) no command can be replayed the
same way, so none is kept then. The snapshot moves aside with it (`FILE.damaged.snapshot`); a good one
is copied back and the commands after it are kept; when the snapshot the journal needs is missing or
damaged, the commands after it cannot run on anything, and none is kept.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from mockserver.persistence import snapshot
from mockserver.persistence.store import (
    _COLUMNS,
    Command,
    StateFileDamaged,
    StateFileError,
    StateStore,
    row_command,
)

_KEPT_META = ("seed", "origin", "anchor")


@dataclass(frozen=True)
class Recovery:
    kept: int
    dropped: int | None  # None: the damaged file could not even count its rows
    moved_to: Path
    reason: str

    def summary(self) -> str:
        dropped = "an unknown number of" if self.dropped is None else str(self.dropped)
        return (
            f"the state file was damaged ({self.reason}); kept the first {self.kept} commands and dropped "
            f"{dropped} commands after them; the damaged file is kept at {self.moved_to}"
        )


def recover(path: Path, identity: dict[str, str], reason: str) -> tuple[StateStore, Recovery]:
    aside = _aside(path)
    path.rename(aside)
    journal = path.with_name(path.name + "-journal")
    if journal.exists():  # a hot journal rolls the damaged copy back to its last commit when read
        journal.rename(aside.with_name(aside.name + "-journal"))
    if snapshot.snapshot_path(path).exists():
        snapshot.snapshot_path(path).rename(snapshot.snapshot_path(aside))
    meta, commands, total = _read(aside)
    stored = meta.get("identity")
    if stored is not None and json.loads(stored) != identity:
        aside.rename(path)
        raise StateFileError(f"{path}: written by a server with other settings; it was not recovered")
    if "seed" not in meta:
        commands = []  # without the seed, no command replays as it ran
    base = _good_snapshot(aside, meta.get(snapshot.META_KEY))
    if base is False:
        commands = []  # the snapshot they follow is lost
    elif isinstance(base, snapshot.SnapshotHeader):
        commands = [c for c in commands if c.seq > base.seq]
    store = StateStore.open(path, identity)
    for key in _KEPT_META:
        if key in meta:
            store.put_meta(key, meta[key])
    if isinstance(base, snapshot.SnapshotHeader):
        shutil.copyfile(snapshot.snapshot_path(aside), snapshot.snapshot_path(path))
        store.put_meta(snapshot.META_KEY, base.to_json())
    store.put_commands(commands)
    dropped = None if total is None else total - len(commands)
    return store, Recovery(len(commands), dropped, aside, reason)


def _good_snapshot(aside: Path, expected: str | None) -> snapshot.SnapshotHeader | bool | None:
    """The damaged file's snapshot if it is good; None: there is none and none is needed; False: the one
    the journal needs is missing or damaged."""
    try:
        needed = None if expected is None else snapshot.SnapshotHeader.from_json(expected)
        found = snapshot.read(aside, needed)
    except (StateFileDamaged, ValueError, KeyError, TypeError):
        return False
    return None if found is None else found[0]


def _aside(path: Path) -> Path:
    candidate, number = path.with_name(path.name + ".damaged"), 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.name}.damaged-{number}")
    return candidate


def _read(path: Path) -> tuple[dict[str, str], list[Command], int | None]:
    """What can still be read: the settings, the commands up to the first bad one, the row count."""
    meta: dict[str, str] = {}
    commands: list[Command] = []
    total: int | None = None
    try:
        db = sqlite3.connect(path, isolation_level=None)
    except sqlite3.Error:
        return meta, commands, total
    try:
        try:
            meta = {str(k): str(v) for k, v in db.execute("SELECT key, value FROM meta")}
        except sqlite3.DatabaseError:
            meta = {}
        try:
            total = int(db.execute("SELECT count(*) FROM commands").fetchone()[0])
        except sqlite3.DatabaseError:
            total = None
        try:
            rows = db.execute(f"SELECT {_COLUMNS}, seq, checksum FROM commands ORDER BY seq")
            for row in rows:
                command = row_command(row)
                if command.checksum() != row[-1]:
                    break
                commands.append(command)
        except (sqlite3.DatabaseError, TypeError, ValueError):
            pass  # the valid prefix ends here
    finally:
        db.close()
    if total is not None:
        total = max(total, len(commands))
    return meta, commands, total

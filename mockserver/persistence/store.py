"""The state file: an SQLite journal of every accepted command, with what is needed to replay it.

One row per mutating request the server answered 2xx, committed (WAL, synchronous FULL) before the
answer leaves. Next to it, in `meta`: a format marker, the seed the cluster runs on (so that replay
draws the same ids and names), the identity of the server that wrote it (API version, clock mode,
profile, configuration), and the anchor that lets a realtime clock continue after a restart.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

FORMAT = "runai-mockserver-state"
FORMAT_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS commands (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    before REAL NOT NULL,       -- virtual time when the command reached the cluster
    after REAL NOT NULL,        -- virtual time when it was answered (a reset moves the clock)
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    query TEXT NOT NULL,
    content_type TEXT,
    body BLOB NOT NULL,
    client_id TEXT               -- the authenticated application, None on the control API
);
"""


class StateFileError(Exception):
    """A state file this server cannot use; the message names the file and says why."""


@dataclass(frozen=True)
class Command:
    before: float
    after: float
    method: str
    path: str
    query: str
    content_type: str | None
    body: bytes
    client_id: str | None
    seq: int = 0


@dataclass(frozen=True)
class ClockAnchor:
    """Virtual time `virtual` was current at wall time `wall`, the clock running at `speed`."""

    virtual: float
    wall: float
    speed: float

    def at(self, wall: float) -> float:
        return self.virtual + (wall - self.wall) * self.speed


class StateStore:
    def __init__(self, path: Path, db: sqlite3.Connection) -> None:
        self.path, self._db = path, db

    @classmethod
    def open(cls, path: Path, identity: dict[str, str]) -> StateStore:
        """Open or create `path` for this process alone; refuse a file that is corrupt, foreign, in use
        by another server, or written by another setup."""
        if path.is_dir():
            raise StateFileError(f"{path}: is a directory, not a state file")
        try:
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=0.5)
        except (sqlite3.DatabaseError, OSError) as error:
            raise StateFileError(f"{path}: cannot be opened ({error})") from error
        try:
            store = cls(path, db)
            tables = store._prepare()
            store._claim(identity, fresh=not tables)
        except BaseException:
            db.close()
            raise
        return store

    def _prepare(self) -> set[str]:
        db, path = self._db, self.path
        try:
            # Two servers appending to one journal would interleave their histories: the first one
            # holds the file until it exits (the lock goes with the process, kill -9 included).
            db.execute("PRAGMA locking_mode=EXCLUSIVE")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")  # committed means on disk, before the answer
            db.execute("BEGIN EXCLUSIVE")
            db.execute("COMMIT")
        except sqlite3.OperationalError as error:
            if "locked" in str(error):
                raise StateFileError(f"{path}: in use by another running server") from error
            raise StateFileError(f"{path}: not a mockserver state file ({error})") from error
        except sqlite3.DatabaseError as error:
            raise StateFileError(f"{path}: not a mockserver state file ({error})") from error
        try:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if tables and "meta" not in tables:
                raise StateFileError(
                    f"{path}: an SQLite database of something else (tables: {', '.join(sorted(tables))})"
                )
            check = db.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise StateFileError(f"{path}: the database is corrupt ({check})")
            db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as error:
            raise StateFileError(f"{path}: not a mockserver state file ({error})") from error
        return tables

    def _claim(self, identity: dict[str, str], fresh: bool) -> None:
        if fresh:
            self._set("format", FORMAT)
            self._set("format_version", str(FORMAT_VERSION))
            self._set("identity", json.dumps(identity, sort_keys=True))
            return
        if self._get("format") != FORMAT:
            raise StateFileError(f"{self.path}: an SQLite database, but not a mockserver state file")
        version = self._get("format_version")
        if version != str(FORMAT_VERSION):
            raise StateFileError(f"{self.path}: state format {version}; this server reads {FORMAT_VERSION}")
        stored = json.loads(self._get("identity") or "{}")
        differences = [
            f"{key} {stored.get(key)!r} (now {value!r})"
            for key, value in identity.items()
            if stored.get(key) != value
        ]
        if differences:
            raise StateFileError(
                f"{self.path}: written by a server with other settings: {'; '.join(differences)}. "
                "Start with the same settings, or use another --state file."
            )

    def seed(self, requested: int | None) -> int:
        """The seed the cluster runs on: the stored one; on a new file the requested one, else a random one."""
        stored = self._get("seed")
        if stored is None:
            seed = requested if requested is not None else secrets.randbits(63)
            self._set("seed", str(seed))
            return seed
        if requested is not None and requested != int(stored):
            raise StateFileError(f"{self.path}: written with --seed {stored}, not {requested}")
        return int(stored)

    def origin(self, default: float) -> float:
        """The virtual time the cluster started at (kept from the first start)."""
        stored = self._get("origin")
        if stored is None:
            self._set("origin", repr(default))
            return default
        return float(stored)

    def anchor(self) -> ClockAnchor | None:
        stored = self._get("anchor")
        return None if stored is None else ClockAnchor(**json.loads(stored))

    def set_anchor(self, anchor: ClockAnchor) -> None:
        self._set("anchor", json.dumps(anchor.__dict__))

    def append(self, command: Command) -> None:
        """Record an accepted command; returns once it is committed to disk."""
        self._db.execute(
            "INSERT INTO commands (before, after, method, path, query, content_type, body, client_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                command.before,
                command.after,
                command.method,
                command.path,
                command.query,
                command.content_type,
                command.body,
                command.client_id,
            ),
        )

    def commands(self) -> Iterator[Command]:
        rows = self._db.execute(
            "SELECT before, after, method, path, query, content_type, body, client_id, seq FROM commands ORDER BY seq"
        )
        for before, after, method, path, query, content_type, body, client_id, seq in rows:
            yield Command(before, after, method, path, query, content_type, bytes(body), client_id, seq)

    def close(self) -> None:
        self._db.close()

    def _get(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

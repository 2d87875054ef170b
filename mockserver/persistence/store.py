"""The state file: an SQLite journal of every command the cluster carried out, typed, ready to run again.

A row is a command as executed: the operation's name (a method of the cluster, or a fault setting),
its parsed, typed arguments (`codec.py`; the caller is one of them) and the application that sent it,
never the HTTP request it came in. Write-ahead: a command's row is committed (synchronous FULL) before
the command runs, so memory never holds a change the file lacks; if the write fails the command does
not run. Its outcome (carried out or refused, the clock after it) is written with the next command's
row: a refused command's row is then deleted, and a row without an outcome (the last one, after a
kill -9) is run again as it was recorded. Every row carries a checksum of its fields.
Snapshots (`snapshot.py`) compact it: the rows a snapshot covers are deleted.

A rollback journal, not WAL: every committed row is in the main file itself. With WAL, the rows since
the last checkpoint lived only in the `-wal` file, and a WAL cut short or deleted silently dropped
them (SQLite keeps the valid frames); a main file cut short is reported as malformed instead.

Next to the rows, in `meta`: a format marker, the seed the cluster runs on (so that replay draws the
same ids and names), the identity of the server that wrote it (API version, clock mode, profile,
configuration), and the anchor that lets a realtime clock continue after a restart.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

FORMAT = "runai-mockserver-state"
# 3: typed commands and snapshots; 2: HTTP requests, write-ahead, checksummed; 1: requests after the answer.
FORMAT_VERSION = 3

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS commands (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    before REAL NOT NULL,       -- virtual time when the command reached the cluster
    after REAL,                 -- virtual time when it was done (a reset moves the clock); NULL: unknown
    target TEXT NOT NULL,       -- what it acts on: "cluster" or "faults"
    operation TEXT NOT NULL,    -- the cluster's method (submit, suspend …) or the fault's setting
    principal TEXT,             -- the authenticated application, None on the control API
    arguments BLOB NOT NULL,    -- the parsed, typed arguments (codec.py)
    done INTEGER,               -- 1: carried out; NULL: not known (the last row after a kill)
    checksum TEXT NOT NULL
);
"""


class StateFileError(Exception):
    """A state file this server cannot use; the message names the file and says why."""


class StateFileDamaged(StateFileError):
    """A state file of ours that lost or garbled part of its content; `--state-recover` keeps the rest."""


class StateWriteError(Exception):
    """The state file could not be written (disk full, I/O error): the command must not run."""


@dataclass(frozen=True)
class Command:
    """One command as the cluster executed it (`arguments`: codec bytes of its positional and keyword
    arguments)."""

    before: float
    after: float | None
    target: str
    operation: str
    principal: str | None
    arguments: bytes
    done: bool | None = None
    seq: int = 0

    def checksum(self) -> str:
        fields = [self.before, self.after, self.target, self.operation, self.principal, self.done]
        digest = hashlib.blake2b(json.dumps([*fields, len(self.arguments)]).encode(), digest_size=16)
        digest.update(self.arguments)
        return digest.hexdigest()

    def describe(self) -> str:
        by = f" by {self.principal}" if self.principal else ""
        return f"command {self.seq} ({self.target} {self.operation}{by})"


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
        # The outcome of the last command run, written with the next command's row (or at close).
        self._unsettled: Command | None = None

    @classmethod
    def open(cls, path: Path, identity: dict[str, str]) -> StateStore:
        """Open or create `path` for this process alone; refuse a file that is damaged, foreign, in use
        by another server, or written by another setup."""
        if path.is_dir():
            raise StateFileError(f"{path}: is a directory, not a state file")
        _refuse_blank(path)
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
            # PERSIST: the rollback journal's file is kept between commits (cheaper than deleting it).
            mode = db.execute("PRAGMA journal_mode=PERSIST").fetchone()[0]
            db.execute("PRAGMA synchronous=FULL")  # committed means on disk, before the command runs
            db.execute("BEGIN EXCLUSIVE")
            db.execute("COMMIT")
        except sqlite3.OperationalError as error:
            if "locked" in str(error):
                raise StateFileError(f"{path}: in use by another running server") from error
            raise StateFileError(f"{path}: not a mockserver state file ({error})") from error
        except sqlite3.DatabaseError as error:
            raise _damaged_or_foreign(path, error) from error
        if mode != "persist":
            raise StateFileError(f"{path}: journal mode {mode} cannot be changed (is the file in use?)")
        try:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if tables and "meta" not in tables:
                raise StateFileError(
                    f"{path}: an SQLite database of something else (tables: {', '.join(sorted(tables))})"
                )
            check = db.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise StateFileDamaged(f"{path}: damaged: the database is corrupt ({check.splitlines()[0]})")
            if not tables:  # pages freed by compaction go back to the file system (set before any table)
                db.execute("PRAGMA auto_vacuum=INCREMENTAL")
            db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as error:
            raise _damaged_or_foreign(path, error) from error
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
        if version in ("1", "2"):
            raise StateFileError(
                f"{self.path}: state format {version} (a journal of HTTP requests) is not read any more: this "
                f"server keeps format {FORMAT_VERSION} (the commands as executed, and snapshots). Start with a "
                "new --state file; the old one is left as it was"
            )
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

    def begin(self, command: Command) -> int:
        """Commit `command`'s row (and the last command's outcome) before it runs; its row number.
        Raises StateWriteError, with nothing written, when the file cannot take it."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._write_outcome()
                cursor = self._db.execute(
                    f"INSERT INTO commands ({_COLUMNS}, checksum) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (*_fields(command), command.checksum()),
                )
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:  # a failed COMMIT may have rolled back already
                    self._db.execute("ROLLBACK")
                raise
        except (sqlite3.Error, OSError) as error:
            raise StateWriteError(str(error)) from error
        self._unsettled = None
        return int(cursor.lastrowid or 0)

    def settle(self, seq: int, command: Command, done: bool, after: float) -> None:
        """Whether command `seq` was carried out; written with the next row, or at close."""
        self._unsettled = replace(command, seq=seq, done=done, after=after)

    def flush_outcome(self) -> None:
        """Write the last command's outcome now (before a snapshot that covers it)."""
        if self._unsettled is not None:
            with self.transaction():
                self._write_outcome()
            self._unsettled = None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    def _write_outcome(self) -> None:
        done = self._unsettled
        if done is None:
            return
        if done.done:
            self._db.execute(
                "UPDATE commands SET done = 1, after = ?, checksum = ? WHERE seq = ?",
                (done.after, done.checksum(), done.seq),
            )
        else:  # refused: it changed nothing, replay skips it
            self._db.execute("DELETE FROM commands WHERE seq = ?", (done.seq,))

    def commands(self, after: int = 0) -> Iterator[Command]:
        """The recorded commands in order, each checked against its checksum (StateFileDamaged if not)."""
        rows = None
        try:
            rows = self._db.execute(
                f"SELECT {_COLUMNS}, seq, checksum FROM commands WHERE seq > ? ORDER BY seq", (after,)
            )
            for row in rows:
                command = row_command(row)
                seq, checksum = row[-2], row[-1]
                if command.checksum() != checksum:
                    raise StateFileDamaged(
                        f"{self.path}: damaged: command {seq} does not match its checksum (the file was "
                        "altered or garbled)"
                    )
                yield command
        except sqlite3.DatabaseError as error:
            raise StateFileDamaged(f"{self.path}: damaged: a command cannot be read ({error})") from error
        finally:
            if rows is not None:  # an open statement would keep the file locked after close()
                rows.close()

    def close(self) -> None:
        try:
            if self._unsettled is not None:
                self._db.execute("BEGIN IMMEDIATE")
                self._write_outcome()
                self._db.execute("COMMIT")
        except sqlite3.Error:
            pass  # the row stays without an outcome: replayed as sent, which is what it was
        self._db.close()

    def put_meta(self, key: str, value: str) -> None:
        """Recovery: a setting taken over from a damaged file."""
        self._set(key, value)

    def put_commands(self, commands: list[Command]) -> None:
        """Recovery: rows taken over from a damaged file, as they were, in one transaction."""
        with self.transaction() as db:
            db.executemany(
                f"INSERT INTO commands ({_COLUMNS}, checksum, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(*_fields(c), c.checksum(), c.seq) for c in commands],
            )

    def last_seq(self) -> int:
        row = self._db.execute("SELECT max(seq) FROM commands").fetchone()
        return int(row[0] or 0)

    def count(self, after: int = 0) -> int:
        return int(self._db.execute("SELECT count(*) FROM commands WHERE seq > ?", (after,)).fetchone()[0])

    def get_meta(self, key: str) -> str | None:
        return self._get(key)

    def compact(self, key: str, value: str, seq: int) -> None:
        """A snapshot covering rows up to `seq` is in place: record it (`key`: `value`) and drop those rows,
        in one transaction; then give the freed pages back to the file system."""
        with self.transaction() as db:
            self._set(key, value)
            db.execute("DELETE FROM commands WHERE seq <= ?", (seq,))
        self._db.execute("PRAGMA incremental_vacuum").fetchall()

    def verify(self) -> int:
        """Read every row and check its checksum (StateFileDamaged if one fails); the count."""
        return sum(1 for _ in self.commands())

    def _get(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))


_COLUMNS = "before, after, target, operation, principal, arguments, done"


def row_command(row: tuple[Any, ...]) -> Command:
    """A row read with `_COLUMNS, seq, …` as a Command (an altered row then fails its checksum)."""
    before, after, target, operation, principal, arguments, done, seq = row[:8]
    return Command(
        before, after, str(target), str(operation), principal, _blob(arguments), _done(done), int(seq)
    )


def _done(value: object) -> bool | None:
    return None if value is None else bool(value)


def _blob(value: object) -> bytes:
    """Arguments as stored; an altered row may hold text (or a number) there, which then fails its checksum."""
    return value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogateescape")


def _fields(command: Command) -> tuple[object, ...]:
    done = None if command.done is None else int(command.done)
    return (
        command.before,
        command.after,
        command.target,
        command.operation,
        command.principal,
        command.arguments,
        done,
    )


def _refuse_blank(path: Path) -> None:
    """An existing file that is empty or all zero bytes: a state file that lost its content."""
    try:
        size = path.stat().st_size
    except OSError:
        return  # a new file
    if size == 0:
        raise StateFileDamaged(f"{path}: damaged: the file is empty (0 bytes), a state file never is")
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            if chunk.strip(b"\0"):
                return
    raise StateFileDamaged(f"{path}: damaged: the file holds only zero bytes ({size})")


def _damaged_or_foreign(path: Path, error: sqlite3.DatabaseError) -> StateFileError:
    if "malformed" in str(error):
        return StateFileDamaged(f"{path}: damaged: {error} (cut short or overwritten)")
    return StateFileError(f"{path}: not a mockserver state file ({error})")

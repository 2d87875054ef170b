"""Snapshots: the whole cluster in one file next to the journal, so a restart reads it and the tail only.

`FILE.snapshot` holds a header line (format, the last command it covers, the clock, the payload's
length and checksum) and the cluster's objects (`codec.py`). It is written to `FILE.snapshot.tmp-PID`,
flushed to disk, renamed over the old one and the directory flushed; only then are the rows it
covers deleted from the journal, and the journal's `meta` records which snapshot it now needs. A crash
at any point loses nothing acknowledged:

- before the rename: the old snapshot (or none) and every row are still there; the temporary file is
  removed at the next start;
- after the rename, before the rows are deleted: the new snapshot covers rows still in the journal;
  a restart skips the rows the snapshot covers;
- after: the snapshot and the rows after it.

A snapshot that fails its checksum, is cut short, is missing while the journal says one is needed,
or is older than the journal's record of it is damage: refused unless `--state-recover`.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mockserver.persistence.store import StateFileDamaged

MAGIC = b"runai-mockserver-snapshot 1\n"
# Meta key in the journal: the snapshot the rows left in the journal follow.
META_KEY = "snapshot"


@dataclass(frozen=True)
class SnapshotHeader:
    seq: int  # the last command the snapshot covers
    clock: float  # the cluster's virtual time when it was taken
    length: int
    checksum: str

    def to_json(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SnapshotHeader:
        fields = json.loads(text)
        return cls(int(fields["seq"]), float(fields["clock"]), int(fields["length"]), str(fields["checksum"]))


def snapshot_path(state: Path) -> Path:
    return state.with_name(state.name + ".snapshot")


def _temporary(state: Path) -> Path:
    # One per writer: a forked writer that outlived its server never writes into the next one's file.
    return state.with_name(f"{state.name}.snapshot.tmp-{os.getpid()}")


def _digest(payload: bytes) -> str:
    return hashlib.blake2b(payload, digest_size=16).hexdigest()


def write(
    state: Path, seq: int, clock: float, payload: bytes, still_wanted: Callable[[], bool] | None = None
) -> SnapshotHeader:
    """Put a snapshot in place atomically (temporary file, fsync, rename, fsync of the directory).
    `still_wanted`: asked before the rename (a forked writer whose server died must not put its file
    in place under the next server); False leaves nothing behind."""
    header = SnapshotHeader(seq, clock, len(payload), _digest(payload))
    temporary = _temporary(state)
    with temporary.open("wb") as file:
        file.write(MAGIC)
        file.write(header.to_json().encode() + b"\n")
        file.write(payload)
        file.flush()
        os.fsync(file.fileno())
    if still_wanted is not None and not still_wanted():
        temporary.unlink(missing_ok=True)
        raise OSError("the server that asked for this snapshot is gone")
    os.replace(temporary, snapshot_path(state))
    _sync_directory(state.parent)
    return header


def _sync_directory(directory: Path) -> None:
    """The rename itself on disk (a directory's entry); not every system lets a directory be opened."""
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def remove_leftovers(state: Path) -> None:
    """Temporary files left by a crash during a snapshot's write: never in place, never needed."""
    for leftover in state.parent.glob(f"{glob.escape(state.name)}.snapshot.tmp*"):
        leftover.unlink(missing_ok=True)


def read(state: Path, expected: SnapshotHeader | None) -> tuple[SnapshotHeader, bytes] | None:
    """The snapshot next to `state` (None: there is none and none is expected), checked against its own
    checksum and against what the journal expects (StateFileDamaged if either fails)."""
    path = snapshot_path(state)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if expected is not None:
            raise StateFileDamaged(
                f"{state}: damaged: its snapshot {path.name} (commands up to {expected.seq}) is missing"
            ) from None
        return None
    except OSError as error:
        raise StateFileDamaged(f"{state}: damaged: its snapshot cannot be read ({error})") from error
    if not data.startswith(MAGIC):
        raise StateFileDamaged(f"{state}: damaged: {path.name} is not a snapshot (or was overwritten)")
    line_end = data.find(b"\n", len(MAGIC))
    try:
        header = SnapshotHeader.from_json(data[len(MAGIC) : line_end].decode())
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
        raise StateFileDamaged(f"{state}: damaged: the header of {path.name} is garbled") from error
    payload = data[line_end + 1 :]
    if len(payload) != header.length or _digest(payload) != header.checksum:
        raise StateFileDamaged(
            f"{state}: damaged: {path.name} does not match its checksum (cut short or altered: "
            f"{len(payload)} of {header.length} bytes)"
        )
    if expected is not None and header.seq < expected.seq:
        raise StateFileDamaged(
            f"{state}: damaged: {path.name} covers commands up to {header.seq}, the journal needs one up "
            f"to {expected.seq} (an older copy?)"
        )
    return header, payload

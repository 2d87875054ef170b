"""Opt-in durable state (`--state FILE`): the cluster survives kill -9 and restarts where it stopped.

`Durability` is what `create_app` needs: the seed and the clock the cluster must be built with, the
journal middleware's options, and `restore`, which loads the last snapshot and runs the journal's
commands after it on the cluster, then puts the journal in front of the cluster's commands and hands
the cluster its real clock, continuing from where the last run stopped.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import logging
import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from starlette.types import ASGIApp

from mockserver.cluster.clock import MANUAL_EPOCH, ManualClock, RealtimeClock
from mockserver.persistence import codec, snapshot
from mockserver.persistence.commands import (
    CLUSTER,
    CommandLog,
    cluster_state,
    replay_one,
    restore_state,
)
from mockserver.persistence.journal import Journal
from mockserver.persistence.recovery import Recovery, recover
from mockserver.persistence.store import ClockAnchor, Command, StateFileDamaged, StateFileError, StateStore

if TYPE_CHECKING:
    from mockserver.handlers.state import MockState

__all__ = ["Durability", "HeldClock", "Journal", "StateFileDamaged", "StateFileError"]

log = logging.getLogger("mockserver")

# A snapshot is taken once this many commands (or bytes of their arguments, or seconds spent running
# them) were journalled since the last one: a restart then reads one snapshot and a tail that replays
# in about that time at most.
SNAPSHOT_EVERY_COMMANDS = 10_000
SNAPSHOT_EVERY_BYTES = 16 << 20
SNAPSHOT_EVERY_WORK_SECONDS = 0.5
# Where the system can, a snapshot is written by a forked copy of the process: the server goes on
# answering while the copy (frozen at the fork, copy-on-write) pickles the cluster and writes the file.
CAN_FORK = hasattr(os, "fork")


@dataclass
class HeldClock(RealtimeClock):
    """A realtime clock that a change holds still while it runs: the time the journal records for it is
    then exactly the time the cluster used, and replay, pinned to that time, does the same."""

    held: float | None = field(default=None, init=False)

    def now(self) -> float:
        return super().now() if self.held is None else self.held


@dataclass
class Durability:
    store: StateStore
    seed: int
    clock_mode: str
    speed: float
    # Replay runs on a manual clock pinned to each command's time, whatever the server's clock mode.
    replay_clock: ManualClock
    replayed: int = 0  # journalled commands run again at start (after the snapshot)
    snapshot_seq: int = 0  # the last command the snapshot loaded at start (or written since) covers
    recovered: Recovery | None = None  # what --state-recover kept and dropped
    snapshot_every: int = SNAPSHOT_EVERY_COMMANDS
    snapshot_every_bytes: int = SNAPSHOT_EVERY_BYTES
    snapshot_every_work: float = SNAPSHOT_EVERY_WORK_SECONDS
    fork_snapshots: bool = CAN_FORK
    snapshots_taken: int = 0
    _found: tuple[snapshot.SnapshotHeader, bytes] | None = field(default=None, repr=False)
    _since_commands: int = field(default=0, repr=False)
    _since_bytes: int = field(default=0, repr=False)
    _since_work: float = field(default=0.0, repr=False)
    _writing: tuple[int, int] | None = field(default=None, repr=False)  # a forked writer: pid, last seq
    _state: MockState | None = field(default=None, repr=False)

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        config: object,
        seed: int | None,
        clock: str,
        speed: float,
        settings: dict[str, str],
        recover_damage: bool = False,
    ) -> Durability:
        """`settings`: what else must match for a replay to rebuild the same cluster (API version …).
        A damaged file (or snapshot) is refused (StateFileDamaged) unless `recover_damage`: then its
        valid prefix is kept in a new file and the damaged one moved aside."""
        identity = {
            **settings,
            "clock": clock,
            # The configuration's content, not its file name: topology, accounts and timing decide replay.
            "config": config_digest(config),
        }
        recovered, found = None, None
        try:
            store = StateStore.open(path, identity)
            try:
                store.verify()  # every row's checksum, before anything is built on it
                snapshot.remove_leftovers(path)
                found = snapshot.read(path, _expected(store))
            except BaseException:
                store.close()
                raise
        except StateFileDamaged as damaged:
            if not recover_damage:
                raise StateFileDamaged(
                    f"{damaged}. Nothing was changed. Start with --state-recover to keep the commands before "
                    "the damage (the damaged file is kept next to it), or use another --state file"
                ) from damaged
            reason = str(damaged).removeprefix(f"{path}: damaged: ")
            store, recovered = recover(path, identity, reason)
            log.warning("state %s: %s", path, recovered.summary())
            found = snapshot.read(path, _expected(store))  # a good snapshot was kept with its rows
        origin = store.origin(MANUAL_EPOCH if clock == "manual" else time.time())
        durable = cls(store, store.seed(seed), clock, speed, ManualClock(start=origin))
        durable.recovered, durable._found = recovered, found
        return durable

    def journal_options(self, state: MockState) -> dict[str, Any]:
        """Keyword arguments of the Journal middleware for the app's state."""

        def now() -> float:
            return float(state.cluster.clock.now())  # the clock in use, replay's or the real one

        def hold(held: float | None) -> None:
            if isinstance(state.cluster.clock, HeldClock):
                state.cluster.clock.held = held

        return {"now": now, "hold": hold, "after_change": self.snapshot_if_due}

    def restore(self, app: ASGIApp, state: MockState, control_token: str | None = None) -> int:
        """Load the snapshot and run the journal's commands after it; then journal every new command and
        run on the real clock. Returns the count of commands run again. (`app` and `control_token` are
        not needed: replay calls the cluster itself.)"""
        clock, started = self.replay_clock, time.monotonic()
        if self._found is not None:
            header, payload = self._found
            try:
                saved = codec.loads(payload, clock)
            except codec.UnreadableRecord as error:
                raise StateFileError(
                    f"{self.store.path}: its snapshot was written by another version of the fake ({error}); "
                    "start with a new --state file"
                ) from error
            restore_state(state.cluster, state.faults, saved)
            clock.start = header.clock
            clock.reset()
            self.snapshot_seq = header.seq
            self._found = None  # the bytes are not needed any more
        count = 0
        for command in self.store.commands(after=self.snapshot_seq):
            self._pin(command)
            replay_one(state.cluster, state.faults, command, self.store.path)
            count += 1
        self.replayed = count
        if self.clock_mode == "manual":
            clock.start = MANUAL_EPOCH  # a later reset goes back to the manual clock's own start
        else:
            anchor = self.store.anchor()
            wall = time.time()
            # The cluster kept running while the server was down, as a real one would.
            resume = max(clock.now(), anchor.at(wall) if anchor else clock.now())
            state.cluster.clock = HeldClock(speed=self.speed, start=resume)
            self.store.set_anchor(ClockAnchor(resume, wall, self.speed))
        self._state = state
        CommandLog(self.store, lambda: float(state.cluster.clock.now()), self._done).install(
            state.cluster, state.faults
        )
        if count or self.snapshot_seq:
            log.info(
                "state %s: snapshot of commands up to %d, then %d commands, in %.1f s",
                self.store.path,
                self.snapshot_seq,
                count,
                time.monotonic() - started,
            )
        return count

    def _pin(self, command: Command) -> None:
        """The replay clock at the command's time; where a replayed reset puts the clock is its `after`
        (a row without an outcome: where a reset would)."""
        clock = self.replay_clock
        fallback = MANUAL_EPOCH if self.clock_mode == "manual" else command.before
        clock.start = command.after if command.after is not None else fallback
        if command.before > clock.now():
            clock.advance(command.before - clock.now())

    def _done(self, command: Command, seconds: float) -> None:
        self._since_commands += 1
        self._since_bytes += len(command.arguments)
        self._since_work += seconds
        state = self._state
        if command.target == CLUSTER and command.operation == "reset" and state is not None:
            clock = state.cluster.clock
            if isinstance(clock, RealtimeClock):  # a realtime reset moves the clock to the wall's time
                try:
                    self.store.set_anchor(ClockAnchor(RealtimeClock.now(clock), time.time(), self.speed))
                except sqlite3.Error as error:  # the reset's own row is on disk; the anchor comes later
                    log.warning(
                        "state %s: the clock's anchor could not be written (%s)", self.store.path, error
                    )

    def snapshot_if_due(self) -> None:
        """After each change: finish a forked snapshot that is done; start one when enough was journalled."""
        if self._writing is not None:
            self._finish_writing(block=False)
        due = (
            self._since_commands >= self.snapshot_every
            or self._since_bytes >= self.snapshot_every_bytes
            or self._since_work >= self.snapshot_every_work
        )
        if due and self._writing is None:
            self.take_snapshot(wait=False)

    def take_snapshot(self, wait: bool = True) -> bool:
        """Snapshot the cluster as it is now and drop the rows it covers (`wait`: before returning, else
        when the forked writer is done). False, with a warning, when it cannot be written: the journal
        then keeps every row, nothing is lost."""
        state = self._state
        if state is None:
            return False
        if self._writing is not None:
            self._finish_writing(block=True)
        self._since_commands = self._since_bytes = 0
        self._since_work = 0.0
        path = self.store.path
        try:
            self.store.flush_outcome()  # the snapshot covers the last command: its outcome first
            seq = self.store.last_seq()
            if seq <= self.snapshot_seq:
                return False
            # The cluster's lock: a read in a worker thread (a list's filter) may be firing timers.
            with state.cluster.reading():
                clock = float(state.cluster.clock.now())
                if not self.fork_snapshots:
                    payload = codec.dumps(cluster_state(state.cluster, state.faults))
                    return self._compact(snapshot.write(path, seq, clock, payload))
                server = os.getpid()
                pid = os.fork()
                if pid == 0:  # the copy: write the file and end, touching nothing else of the server's
                    _write_and_exit(path, seq, clock, state, server)
            self._writing = (pid, seq)
        except Exception as error:  # disk full, a value that cannot be kept …: the journal has it all
            log.warning("state %s: no snapshot was taken (%s); the journal keeps every command", path, error)
            return False
        return self._finish_writing(block=True) if wait else True

    def wait_for_snapshot(self) -> None:
        """Wait for a forked writer still at work, and compact after it."""
        if self._writing is not None:
            self._finish_writing(block=True)

    def _finish_writing(self, block: bool) -> bool:
        assert self._writing is not None
        pid, seq = self._writing
        done, status = os.waitpid(pid, 0 if block else os.WNOHANG)
        if done == 0:
            return False  # still writing
        self._writing = None
        found = None
        if os.waitstatus_to_exitcode(status) == 0:
            try:
                found = snapshot.read(self.store.path, None)
            except StateFileDamaged as error:
                log.warning("state %s: the snapshot written is not readable (%s)", self.store.path, error)
        if found is None or found[0].seq != seq:
            log.warning("state %s: no snapshot was taken; the journal keeps every command", self.store.path)
            return False
        return self._compact(found[0])

    def _compact(self, header: snapshot.SnapshotHeader) -> bool:
        try:
            self.store.compact(snapshot.META_KEY, header.to_json(), header.seq)
        except sqlite3.Error as error:  # the snapshot is in place; its rows stay, skipped at start
            log.warning("state %s: the journal was not compacted (%s)", self.store.path, error)
            return False
        self.snapshot_seq = header.seq
        self.snapshots_taken += 1
        return True


def _write_and_exit(path: Path, seq: int, clock: float, state: MockState, server: int) -> NoReturn:
    """In the forked copy: pickle the cluster, put the snapshot in place, exit 0 (1 on any failure).
    If the server died meanwhile (kill -9), the file is not put in place: the next server owns it."""
    code = 1
    try:
        gc.disable()  # the collector would touch every page and copy it for nothing
        payload = codec.dumps(cluster_state(state.cluster, state.faults))
        snapshot.write(path, seq, clock, payload, lambda: os.getppid() == server)
        code = 0
    except BaseException:
        pass
    finally:
        os._exit(code)


def config_digest(config: object) -> str:
    """A digest of the configuration that is the same in every process: `repr` of a frozenset depends on
    the process's string-hash seed, so two starts with one file once disagreed about their own settings."""
    return hashlib.sha256(repr(_canonical(config)).encode()).hexdigest()[:16]


def _canonical(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return (type(value).__name__, tuple((f.name, _canonical(getattr(value, f.name))) for f in fields))
    if isinstance(value, (set, frozenset)):
        return ("set", tuple(sorted((_canonical(item) for item in value), key=repr)))
    if isinstance(value, dict):
        return ("dict", tuple(sorted(((repr(_canonical(k)), _canonical(v)) for k, v in value.items()))))
    if isinstance(value, (list, tuple)):
        return tuple(_canonical(item) for item in value)
    return value


def _expected(store: StateStore) -> snapshot.SnapshotHeader | None:
    """The snapshot the journal's remaining rows follow, as the journal recorded it."""
    stored = store.get_meta(snapshot.META_KEY)
    if stored is None:
        return None
    try:
        return snapshot.SnapshotHeader.from_json(stored)
    except (ValueError, KeyError, TypeError) as error:
        raise StateFileDamaged(f"{store.path}: damaged: its record of the snapshot is garbled") from error

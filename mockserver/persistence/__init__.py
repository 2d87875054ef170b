"""Opt-in durable state (`--state FILE`): the cluster survives kill -9 and restarts where it stopped.

`Durability` is what `create_app` needs: the seed and the clock the cluster must be built with, the
journal middleware's options, and `restore`, which replays the journal through the finished app and
then hands the cluster its real clock, continuing from where the last run stopped.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import logging
import sqlite3
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp

from mockserver.cluster.clock import MANUAL_EPOCH, ManualClock, RealtimeClock
from mockserver.persistence.journal import Journal, replay
from mockserver.persistence.recovery import Recovery, recover
from mockserver.persistence.store import ClockAnchor, Command, StateFileDamaged, StateFileError, StateStore

if TYPE_CHECKING:
    from mockserver.handlers.state import MockState

__all__ = ["Durability", "HeldClock", "Journal", "StateFileDamaged", "StateFileError"]

log = logging.getLogger("mockserver")


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
    replayed: int = 0  # commands replayed at start
    recovered: Recovery | None = None  # what --state-recover kept and dropped

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
        A damaged file is refused (StateFileDamaged) unless `recover_damage`: then its valid prefix is
        kept in a new file and the damaged one moved aside."""
        identity = {
            **settings,
            "clock": clock,
            # The configuration's content, not its file name: topology, accounts and timing decide replay.
            "config": hashlib.sha256(repr(config).encode()).hexdigest()[:16],
        }
        recovered = None
        try:
            store = StateStore.open(path, identity)
            try:
                store.verify()  # every row's checksum, before anything is built on it
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
        origin = store.origin(MANUAL_EPOCH if clock == "manual" else time.time())
        durable = cls(store, store.seed(seed), clock, speed, ManualClock(start=origin))
        durable.recovered = recovered
        return durable

    def journal_options(self, state: MockState) -> dict[str, Any]:
        """Keyword arguments of the Journal middleware for the app's state."""

        def now() -> float:
            return float(state.cluster.clock.now())  # the clock in use, replay's or the real one

        def hold(held: float | None) -> None:
            if isinstance(state.cluster.clock, HeldClock):
                state.cluster.clock.held = held

        def on_reset() -> None:
            clock = state.cluster.clock
            if isinstance(clock, RealtimeClock):  # a realtime reset moves the clock to the wall's time
                try:
                    self.store.set_anchor(ClockAnchor(RealtimeClock.now(clock), time.time(), self.speed))
                except (
                    sqlite3.Error
                ) as error:  # the reset's own row is on disk; the anchor is refreshed later
                    log.warning(
                        "state %s: the clock's anchor could not be written (%s)", self.store.path, error
                    )

        return {"store": self.store, "now": now, "hold": hold, "tokens": state.tokens, "on_reset": on_reset}

    def restore(self, app: ASGIApp, state: MockState, control_token: str | None) -> int:
        """Replay the journal into the freshly built app; then run on the real clock. Returns the count."""
        clock = self.replay_clock

        def pin(command: Command) -> None:
            # Where a replayed reset puts the clock; a row without an outcome: where a reset would.
            fallback = MANUAL_EPOCH if self.clock_mode == "manual" else command.before
            clock.start = command.after if command.after is not None else fallback
            if command.before > clock.now():
                clock.advance(command.before - clock.now())

        started = time.monotonic()
        count = self.replayed = _run(replay(app, self.store, state.tokens, pin, control_token))
        if self.clock_mode == "manual":
            clock.start = MANUAL_EPOCH  # a later reset goes back to the manual clock's own start
        else:
            anchor = self.store.anchor()
            wall = time.time()
            # The cluster kept running while the server was down, as a real one would.
            resume = max(clock.now(), anchor.at(wall) if anchor else clock.now())
            state.cluster.clock = HeldClock(speed=self.speed, start=resume)
            self.store.set_anchor(ClockAnchor(resume, wall, self.speed))
        if count:
            log.info(
                "state %s: %d commands replayed in %.1f s", self.store.path, count, time.monotonic() - started
            )
        return count


def _run(coroutine: Coroutine[Any, Any, int]) -> int:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    # Called from inside an event loop (an async test): replay on a loop of its own.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()

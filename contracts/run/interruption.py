"""Ctrl-C and SIGTERM (what CI runners send on cancel) stop a run the same way: as a KeyboardInterrupt,
which the run turns into cleanup, stopping what it started, and reports marked incomplete."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

HANDLED = (signal.SIGINT, signal.SIGTERM)
# Exit status of a run stopped by a signal, as shells report Ctrl-C.
EXIT_INTERRUPTED = 130


class _Last:
    name = "SIGINT"
    # Set by the handler: a KeyboardInterrupt raised at an unlucky spot may be swallowed by a library,
    # so the run also asks, and a run that was asked to stop is incomplete whatever happened next.
    requested = False


# Armed by hard_limit(): the run overran --max-duration and its grace, something did not stop in time.
OVERRUN = "--max-duration overrun"


def _raise(signum: int, frame: FrameType | None) -> None:
    _Last.name = OVERRUN if signum == signal.SIGALRM else signal.Signals(signum).name
    _Last.requested = True
    raise KeyboardInterrupt(_Last.name)


def requested() -> bool:
    """Whether a signal asked the run to stop."""
    return _Last.requested


def last_signal() -> str:
    """The signal that stopped the run (SIGINT also when Python raised KeyboardInterrupt by itself)."""
    return _Last.name


@contextmanager
def signals_interrupt() -> Iterator[None]:
    """While inside, SIGINT and SIGTERM raise KeyboardInterrupt in the main thread."""
    previous = {signum: signal.getsignal(signum) for signum in HANDLED}
    _Last.name, _Last.requested = "SIGINT", False
    for signum in HANDLED:
        signal.signal(signum, _raise)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def hard_limit(seconds: float | None) -> Iterator[None]:
    """After `seconds`, stop the run like an interrupt (it still cleans up and writes its reports): the
    backstop of --max-duration, for anything that escaped the limits on reading (contracts.limits)."""
    if seconds is None or not hasattr(signal, "SIGALRM"):
        yield
        return
    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

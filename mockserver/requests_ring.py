"""The request journal: every Run:ai API request the fake answered, kept in a bounded ring.

Not the state journal (`mockserver/persistence/`, which replays changes at start): this one is for tests
and audits that ask what a client *sent* — which operations, on which workload, how often, with what
answer. The hot path appends one tuple (`RequestRing.add`); records, filters and dicts are made only
when somebody reads (`RequestRing.select`). A ring of `size` entries holds the newest `size` requests;
`dropped` counts the ones it let go, so a reader knows when the start of a story is missing.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

DEFAULT_RING_SIZE = 10_000
MAX_RING_SIZE = 1_000_000

# One answered request, as the edge records it (see `RecordedRequest` for the fields' meaning).
Row = tuple[int, float, float, float, str, str, str, str | None, int, str | None, bool, bool, float | None]


@dataclass(frozen=True)
class RecordedRequest:
    """One answered request: who sent it, for which operation, what it got, when, and how long it took."""

    seq: int
    wall_at: float  # wall-clock start (epoch seconds)
    wall_seconds: float  # wall-clock time to the last byte of the answer
    virtual_at: float  # the cluster's clock when it arrived
    method: str
    path: str
    operation_id: str  # "" when the contract serves no such method on that path
    workload_id: str | None  # in the path, or the one a create answered with
    status: int
    caller: str | None  # the application its bearer token authenticates
    bearer: bool  # a bearer token was sent (authenticating or not)
    token_expired: bool  # the token was one of ours, signed, and past its `exp`
    retry_after: float | None  # the answer's `Retry-After` in seconds (a 503 of ours says when to come back)

    @classmethod
    def of(cls, row: Row) -> RecordedRequest:
        return cls(*row)


@dataclass(frozen=True)
class RequestFilter:
    """What a reader asks for; every field that is set must match."""

    operation: str | None = None
    workload: str | None = None
    caller: str | None = None
    after: int = 0  # sequence numbers above this
    since: float | None = None  # virtual time at or after this
    limit: int = 1000

    def matches(self, row: Row) -> bool:
        return (
            row[0] > self.after
            and (self.operation is None or row[6] == self.operation)
            and (self.workload is None or row[7] == self.workload)
            and (self.caller is None or row[9] == self.caller)
            and (self.since is None or row[3] >= self.since)
        )


class RequestRing:
    """The newest `size` answered requests, oldest first; safe to append from any thread."""

    def __init__(self, size: int = DEFAULT_RING_SIZE) -> None:
        if not 0 <= size <= MAX_RING_SIZE:
            raise ValueError(f"the request journal holds 0 to {MAX_RING_SIZE} requests, not {size}")
        self.size = size
        self._rows: deque[Row] = deque(maxlen=size or 1)
        self._seq = itertools.count(1)
        self._lock = threading.Lock()
        self.recorded = 0

    @property
    def enabled(self) -> bool:
        return self.size > 0

    @property
    def dropped(self) -> int:
        return self.recorded - len(self._rows)

    def next_seq(self) -> int:
        return next(self._seq)

    def add(self, row: Row) -> None:
        # deque.append with maxlen is atomic; the count is for `dropped` only.
        self._rows.append(row)
        self.recorded += 1

    def clear(self) -> None:
        with self._lock:
            # Sequence numbers go on: a reader's `after` from before a reset never skips new requests.
            self._rows.clear()
            self.recorded = 0

    def select_all(self) -> list[RecordedRequest]:
        with self._lock:
            rows = list(self._rows)
        return [RecordedRequest.of(row) for row in rows]

    def select(self, wanted: RequestFilter | None = None) -> list[RecordedRequest]:
        wanted = wanted or RequestFilter()
        with self._lock:
            rows: Iterable[Row] = list(self._rows)
        found = [row for row in rows if wanted.matches(row)]
        return [RecordedRequest.of(row) for row in found[: max(0, wanted.limit)]]

"""What a client did that a real cluster would punish, read from the request journal.

Each check is a rule about the requests one caller sent; a finding names the rule, the caller, what was
sent and how often. The journal says what was sent and answered; the cluster adds when each workload
reached a terminal phase, so that reads after it can be told from the read that saw it.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from statistics import median

from mockserver.requests_ring import RecordedRequest

# Reads of one resource closer together than this (seconds of the fake's clock; see `_gap`) are fast polling.
POLL_SECONDS = 1.0
# Fast reads in a row that make a finding: one quick retry is not a polling loop.
FAST_READS = 3
# Reads of a workload after its terminal phase that are still fine (the one that sees it, a last look).
READS_AFTER_END = 2
# Wall-clock seconds under which a repeat of a request that got 5xx or 429 counts as a retry without delay.
RETRY_SECONDS = 0.1
_RETRIABLE = frozenset({429, 500, 502, 503, 504})
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class Check(str, Enum):
    """The rules; the values are the report's section names."""

    CONTRACT = "Requests the contract does not allow"
    POLLING = "Polling faster than once a second"
    AFTER_END = "Reads after a terminal phase"
    TOKENS = "Tokens used past their expiry or refused"
    RETRIES = "Retries without delay"
    RETRY_AFTER = "Retries before Retry-After"


@dataclass(frozen=True)
class Finding:
    check: Check
    caller: str | None
    what: str  # the request, e.g. "GET /api/v1/workloads/trainings/{id}/suspend"
    message: str
    count: int
    first_seq: int


@dataclass(frozen=True)
class AuditInput:
    requests: list[RecordedRequest]
    # workload id -> the fake's time it reached a terminal phase (Completed, Failed) or was removed
    ended: Mapping[str, tuple[float, str]]
    realtime: bool  # the fake's clock follows the wall clock (scaled): intervals are read on it


def audit(given: AuditInput) -> list[Finding]:
    findings: list[Finding] = []
    for check in (_contract, _polling, _after_end, _tokens, _retries, _retry_after):
        findings += check(given)
    return findings


def shape(entry: RecordedRequest) -> str:
    """The request with ids replaced, so that one finding covers every workload it was sent for."""
    return f"{entry.method} {_UUID.sub('{id}', entry.path)}"


def _group(
    entries: Iterable[RecordedRequest], key: str
) -> dict[tuple[str | None, str], list[RecordedRequest]]:
    groups: dict[tuple[str | None, str], list[RecordedRequest]] = defaultdict(list)
    for entry in entries:
        groups[(entry.caller, shape(entry) if key == "shape" else entry.path)].append(entry)
    return groups


def _contract(given: AuditInput) -> list[Finding]:
    # A path of no operation that was answered (the served document, its docs page) is no violation.
    refused = [e for e in given.requests if (not e.operation_id and e.status >= 400) or e.status == 400]
    findings = []
    for (caller, what), entries in _group(refused, "shape").items():
        first = entries[0]
        if not first.operation_id:
            why = f"the contract serves no {first.method} on this path (answered {first.status})"
        else:
            why = f"{first.operation_id} refused it as malformed (400): its body or parameters break the contract"
        findings.append(Finding(Check.CONTRACT, caller, what, why, len(entries), first.seq))
    return findings


def _polling(given: AuditInput) -> list[Finding]:
    reads = [e for e in given.requests if e.method == "GET" and e.workload_id and e.operation_id]
    findings = []
    for (caller, _), entries in _group(reads, "path").items():
        gaps = [_gap(a, b, given.realtime) for a, b in itertools.pairwise(entries)]
        fast = sum(1 for gap in gaps if gap < POLL_SECONDS)
        if fast >= FAST_READS - 1:
            findings.append(
                Finding(
                    Check.POLLING,
                    caller,
                    shape(entries[0]),
                    f"{len(entries)} reads, {fast} of them less than {POLL_SECONDS:g} s after the one before "
                    f"(median gap {median(gaps):.2g} s); poll every few seconds, with back-off",
                    fast,
                    entries[0].seq,
                )
            )
    return findings


def _gap(before: RecordedRequest, after: RecordedRequest, realtime: bool) -> float:
    """Seconds between two reads on the fake's clock; on a manual clock the longer of that and the wall
    clock's, so that a test advancing the clock between reads and a client sleeping between them both
    count as waiting."""
    virtual = after.virtual_at - before.virtual_at
    return virtual if realtime else max(virtual, after.wall_at - before.wall_at)


def _after_end(given: AuditInput) -> list[Finding]:
    late: dict[tuple[str | None, str], list[RecordedRequest]] = defaultdict(list)
    for entry in given.requests:
        ended = given.ended.get(entry.workload_id or "")
        if entry.method == "GET" and ended is not None and entry.virtual_at >= ended[0]:
            late[(entry.caller, entry.workload_id or "")].append(entry)
    findings = []
    for (caller, workload_id), entries in late.items():
        if len(entries) > READS_AFTER_END:
            phase = given.ended[workload_id][1]
            findings.append(
                Finding(
                    Check.AFTER_END,
                    caller,
                    shape(entries[0]),
                    f"workload {workload_id} was {phase}, and was read {len(entries)} times after that; "
                    "stop polling once a workload has ended",
                    len(entries),
                    entries[0].seq,
                )
            )
    return findings


def _tokens(given: AuditInput) -> list[Finding]:
    findings = []
    expired = [e for e in given.requests if e.token_expired]
    refused = [e for e in given.requests if e.bearer and e.status == 401 and not e.token_expired]
    missing = [e for e in given.requests if not e.bearer and e.status == 401]
    for entries, why in (
        (expired, "sent with a token past its exp; refresh tokens before they expire"),
        (refused, "sent with a bearer token the API does not accept (another server's, or malformed)"),
        (missing, "sent without a bearer token to an operation that needs one"),
    ):
        callers: dict[str | None, list[RecordedRequest]] = defaultdict(list)
        for entry in entries:
            callers[entry.caller].append(entry)
        for caller, mine in callers.items():
            findings.append(Finding(Check.TOKENS, caller, shape(mine[0]), why, len(mine), mine[0].seq))
    return findings


def _retries(given: AuditInput) -> list[Finding]:
    hasty: dict[tuple[str | None, str], list[RecordedRequest]] = defaultdict(list)
    last: dict[tuple[str | None, str, str], RecordedRequest] = {}
    for entry in given.requests:
        key = (entry.caller, entry.method, entry.path)
        before = last.get(key)
        if (
            before is not None
            and before.status in _RETRIABLE
            and before.retry_after is None  # an answer that said how long to wait: `_retry_after`
            and _waited(before, entry) < RETRY_SECONDS
        ):
            hasty[(entry.caller, shape(entry))].append(entry)
        last[key] = entry
    return [
        Finding(
            Check.RETRIES,
            caller,
            what,
            f"repeated within {RETRY_SECONDS:g} s of a {_RETRIABLE_TEXT} answer; wait (exponential back-off, "
            "Retry-After) before retrying",
            len(entries),
            entries[0].seq,
        )
        for (caller, what), entries in hasty.items()
    ]


def _waited(before: RecordedRequest, entry: RecordedRequest) -> float:
    """Wall-clock seconds from the end of one answer to the next request (Retry-After is in real seconds)."""
    return entry.wall_at - (before.wall_at + before.wall_seconds)


def _retry_after(given: AuditInput) -> list[Finding]:
    """A request repeated sooner than the 429/503 before it said (its `Retry-After`)."""
    early: dict[tuple[str | None, str], list[tuple[RecordedRequest, float, RecordedRequest]]] = defaultdict(
        list
    )
    last: dict[tuple[str | None, str, str], RecordedRequest] = {}
    for entry in given.requests:
        key = (entry.caller, entry.method, entry.path)
        before = last.get(key)
        if before is not None and before.retry_after is not None:
            waited = _waited(before, entry)
            if waited < before.retry_after:
                early[(entry.caller, shape(entry))].append((entry, waited, before))
        last[key] = entry
    findings = []
    for (caller, what), entries in early.items():
        first, waited, told = entries[0]
        findings.append(
            Finding(
                Check.RETRY_AFTER,
                caller,
                what,
                f"repeated {max(waited, 0.0):.2g} s after a {told.status} whose Retry-After asked for "
                f"{told.retry_after:g} s; wait at least as long as Retry-After says",
                len(entries),
                first.seq,
            )
        )
    return findings


_RETRIABLE_TEXT = "/".join(str(s) for s in sorted(_RETRIABLE))

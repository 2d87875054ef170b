"""Scheduling signatures: once a job of a queue failed in an action, a job of that queue with the same
constraints that asks for at least as much in every dimension would fail too, so it is not tried (KAI's
`use-scheduling-signatures`). Within one action capacity only shrinks, which keeps the skip exact."""

from __future__ import annotations

from mockserver.cluster.scheduler.state import JobRecord


class FailedSignatures:
    def __init__(self) -> None:
        # (queue key, signature) -> the smallest failed sizes, with the reason each failed
        self._failed: dict[tuple, list[tuple[tuple[float, ...], str]]] = {}

    def reason_if_dominated(self, queue: tuple, record: JobRecord) -> str | None:
        for size, reason in self._failed.get((queue, record.signature), ()):
            if all(a <= b for a, b in zip(size, record.size, strict=True)):
                return reason
        return None

    def add(self, queue: tuple, record: JobRecord, reason: str) -> None:
        key = (queue, record.signature)
        kept = [
            (s, r)
            for s, r in self._failed.get(key, ())
            if not all(a <= b for a, b in zip(record.size, s, strict=True))
        ]
        kept.append((record.size, reason))
        self._failed[key] = kept

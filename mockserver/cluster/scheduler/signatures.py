"""Scheduling signatures: once a pod failed in an action, a pod with the same constraints that asks for at
least as much in every dimension would fail too, so it is not tried (KAI's `use-scheduling-signatures`).

Two scopes: a pod's own queue (quota and fit), and, while allocating, the whole node pool (fit only:
capacity only shrinks during allocate, so what fits nowhere for one queue fits nowhere for another).
"""

from __future__ import annotations

from operator import le

from mockserver.cluster.scheduler.state import Signature, Size


class FailedSignatures:
    def __init__(self) -> None:
        # signature -> the smallest sizes that failed under it, each with its reason
        self._failed: dict[Signature, list[tuple[Size, str]]] = {}

    def knows(self, signature: Signature) -> bool:
        """True if something failed under `signature` (else nothing is dominated under it)."""
        return signature in self._failed

    def reason_if_dominated(self, signature: Signature, size: Size) -> str | None:
        for failed, reason in self._failed.get(signature, ()):
            if all(map(le, failed, size)):
                return reason
        return None

    def add(self, signature: Signature, size: Size, reason: str) -> None:
        kept = [
            (failed, r) for failed, r in self._failed.get(signature, ()) if not all(map(le, size, failed))
        ]
        kept.append((size, reason))
        self._failed[signature] = kept

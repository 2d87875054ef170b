"""What keeps a run from harming a real cluster: loopback detection and the names of what it creates."""

from __future__ import annotations

import hashlib
import ipaddress
import itertools
import secrets
import threading
from urllib.parse import urlsplit

NAME_PREFIX = "ct"


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def writes_policy(url: str | None, allow_writes: bool) -> tuple[bool, str]:
    """Whether a run may create trainings on `url` (None: a fake the run starts), and why: the one rule
    both the run and its --dry-run plan follow."""
    if url is None or is_loopback(url):
        return True, "allowed: loopback target"
    if allow_writes:
        return True, "allowed by --allow-writes"
    return (
        False,
        "refused: not loopback and no --allow-writes (create and the lifecycle scenarios are skipped)",
    )


def new_run_id(seed: int | None) -> str:
    """Six lowercase hex digits. Derived from the seed when there is one, so that a seeded run against a
    fresh fake creates the same names and therefore writes the same report."""
    if seed is None:
        return secrets.token_hex(3)
    return hashlib.sha256(f"contracts-{seed}".encode()).hexdigest()[:6]


class NameSource:
    """`ct-<run id>-<n>`: every training a run creates is recognisable as the run's, and unique in it."""

    def __init__(self, run_id: str) -> None:
        self.prefix = f"{NAME_PREFIX}-{run_id}"
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def next(self, purpose: str = "") -> str:
        with self._lock:
            number = next(self._counter)
        return f"{self.prefix}-{purpose}-{number}" if purpose else f"{self.prefix}-{number}"

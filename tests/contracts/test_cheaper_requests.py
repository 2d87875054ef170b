"""What made `contracts run` cheaper keeps what it replaced: the clock advances over a reused connection
that is reopened once the fake closed it, cleanup's deletions in flight report in the journal's order, and
only a journal that must outlive the machine is synced."""

from __future__ import annotations

import os
import socket
from datetime import datetime
from pathlib import Path

import pytest

from contracts.backend.auth import FAKE_CREDENTIALS, TokenSource
from contracts.backend.cleanup import delete_leftovers
from contracts.backend.control import FakeControl
from contracts.backend.journal import Journal, leftovers
from contracts.backend.target import Target


def _seconds(now: str) -> float:
    return datetime.fromisoformat(now.replace("Z", "+00:00")).timestamp()


def test_advance_reuses_its_connection_and_reopens_one_the_fake_closed(fake: Target) -> None:
    control = FakeControl(fake.base_url)
    try:
        start = _seconds(control.clock().now)
        control.advance(1)
        first = control._connection
        control.advance(1)
        assert control._connection is first is not None
        # What the fake's idle timeout leaves behind: a connection with an end of stream waiting on it.
        assert first.sock is not None
        first.sock.shutdown(socket.SHUT_RD)
        control.advance(1)
        assert control._connection is not first
        assert _seconds(control.clock().now) - start == 3
    finally:
        control.close()
    assert control._connection is None


def test_cleanup_reports_in_journal_order_with_deletions_in_flight(fake: Target, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal-abc123.jsonl", "abc123", fake.base_url, fresh=True)
    ids = [f"00000000-0000-4000-8000-{n:012d}" for n in range(12)]
    for n, workload_id in enumerate(ids):
        journal.created(workload_id, f"ct-abc123-{n}", "1")
    tokens = TokenSource(fake.base_url, credentials=FAKE_CREDENTIALS)
    result = delete_leftovers(journal.path, lambda base_url: tokens, durable=False)
    assert result.deleted == ids  # unknown to the fake: a 404 counts as gone
    assert result.failed == []
    assert leftovers(journal.path) == []


@pytest.mark.parametrize("durable", [True, False])
def test_only_a_durable_journal_is_synced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, durable: bool
) -> None:
    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", synced.append)
    journal = Journal(tmp_path / "j.jsonl", "abc123", "http://127.0.0.1:1", fresh=True, durable=durable)
    journal.created("w1", "ct-abc123-1", "1")
    journal.deleted("w1")
    assert len(synced) == (2 if durable else 0)
    assert [entry.event for entry in leftovers(journal.path)] == []

"""Delete the workloads (of every kind) a run created and did not delete: at the end of every run, and after a crash
through `contracts cleanup --journal FILE`."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from contracts import limits
from contracts.backend.auth import AuthError, TokenSource
from contracts.backend.journal import Journal, JournalEntry, leftovers
from contracts.backend.safety import is_loopback
from contracts.specs import KIND_BY_COLLECTION

WORKLOAD_PATH = "/api/v1/workloads/{collection}/{workload_id}"
# The kinds' collections cleanup deletes through: a journal naming any other is not followed (a damaged or
# edited file must not make cleanup send DELETE to an arbitrary path of a real control plane).
COLLECTIONS = frozenset(KIND_BY_COLLECTION)
# Deletions in flight at once on a loopback backend (our fake answers one while the next is being sent);
# anywhere else one at a time, so that a run's cleanup never looks like a burst to a real control plane.
LOOPBACK_CONCURRENCY = 4


@dataclass
class CleanupResult:
    deleted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def delete_leftovers(
    journal_path: Path, tokens_for: Callable[[str], TokenSource], *, durable: bool = True
) -> CleanupResult:
    """DELETE every journalled workload not yet recorded as deleted; a 404 counts as gone already.
    Deletions are journalled like the run's own (`durable`: see Journal). The result lists them in the
    journal's order, however many were in flight at once."""
    result = CleanupResult()
    if not journal_path.exists():
        return result
    entries = leftovers(journal_path)
    journals: dict[tuple[str, str], Journal] = {}
    for entry in entries:
        key = (entry.run_id, entry.base_url)
        if key not in journals:
            journals[key] = Journal(journal_path, entry.run_id, entry.base_url, durable=durable)

    # One connection per deletion in flight for all of them: a run against our fake leaves hundreds.
    with limits.new_client(timeout=30) as client:

        def delete(entry: JournalEntry) -> str | None:
            """None when the workload is gone (and journalled so), else why not."""
            if entry.kind not in COLLECTIONS:
                return f"{entry.workload_id} ({entry.name}): unknown kind {entry.kind!r} in the journal"
            path = WORKLOAD_PATH.format(collection=entry.kind, workload_id=entry.workload_id)
            url = entry.base_url + path
            try:
                token = tokens_for(entry.base_url).token()
                answer = limits.request(client, "DELETE", url, headers={"Authorization": f"Bearer {token}"})
                status = answer.status_code
            except (httpx.HTTPError, AuthError) as error:  # one stubborn training must not stop the rest
                return f"{entry.workload_id} ({entry.name}): {error}"
            if 200 <= status < 300 or status == 404:
                journals[(entry.run_id, entry.base_url)].deleted(entry.workload_id, entry.kind)
                return None
            return f"{entry.workload_id} ({entry.name}): DELETE answered {status}"

        concurrency = LOOPBACK_CONCURRENCY if entries and all(is_loopback(e.base_url) for e in entries) else 1
        if concurrency > 1:
            with ThreadPoolExecutor(concurrency, thread_name_prefix="contracts-cleanup") as pool:
                outcomes = list(pool.map(delete, entries))
        else:
            outcomes = [delete(entry) for entry in entries]
    for entry, failure in zip(entries, outcomes, strict=True):
        if failure is None:
            result.deleted.append(entry.workload_id)
        else:
            result.failed.append(failure)
    return result

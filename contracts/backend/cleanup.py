"""Delete the trainings a run created and did not delete: at the end of every run, and after a crash
through `contracts cleanup --journal FILE`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from contracts.backend.auth import AuthError, TokenSource
from contracts.backend.journal import Journal, leftovers

TRAINING_PATH = "/api/v1/workloads/trainings/{workload_id}"


@dataclass
class CleanupResult:
    deleted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def delete_leftovers(
    journal_path: Path, tokens_for: Callable[[str], TokenSource], *, durable: bool = True
) -> CleanupResult:
    """DELETE every journalled training not yet recorded as deleted; a 404 counts as gone already.
    Deletions are journalled like the run's own (`durable`: see Journal)."""
    result = CleanupResult()
    if not journal_path.exists():
        return result
    # One connection for all of them: a run against our fake leaves hundreds.
    with httpx.Client(timeout=30) as client:
        for entry in leftovers(journal_path):
            url = entry.base_url + TRAINING_PATH.format(workload_id=entry.workload_id)
            try:
                token = tokens_for(entry.base_url).token()
                status = client.delete(url, headers={"Authorization": f"Bearer {token}"}).status_code
            except (httpx.HTTPError, AuthError) as error:  # one stubborn training must not stop the rest
                result.failed.append(f"{entry.workload_id} ({entry.name}): {error}")
                continue
            if 200 <= status < 300 or status == 404:
                Journal(journal_path, entry.run_id, entry.base_url, durable=durable).deleted(
                    entry.workload_id
                )
                result.deleted.append(entry.workload_id)
            else:
                result.failed.append(f"{entry.workload_id} ({entry.name}): DELETE answered {status}")
    return result

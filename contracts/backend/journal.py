"""A JSON-lines record of every workload a run creates (with its kind), written as it happens so that a crash leaves a
list of what to delete (`contracts cleanup --journal FILE`)."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

CREATED = "created"
DELETED = "deleted"


@dataclass(frozen=True)
class JournalEntry:
    event: str
    run_id: str
    base_url: str
    workload_id: str
    name: str = ""
    project_id: str = ""
    # The collection the workload lives in (`trainings`, `workspaces`, `distributed`, `inferences`):
    # cleanup deletes it through its kind's path. Journals written before kinds existed hold trainings.
    kind: str = "trainings"


class Journal:
    def __init__(
        self, path: Path, run_id: str, base_url: str, *, fresh: bool = False, durable: bool = True
    ) -> None:
        """`fresh` starts an empty file: a run id is only ever reused by seeded runs against a fake we
        started, whose earlier incarnation (and anything it held) is gone.

        Every line is flushed, so it outlives a crash of the run; `durable` also syncs it to disk, so it
        outlives the machine going down. A fake the run started itself (in memory) dies with the run and
        takes its trainings along, so its journal need not be durable: the sync cost a few milliseconds
        per training."""
        self.path = path
        self.run_id = run_id
        self.base_url = base_url
        self._lock = threading.Lock()
        self.durable = durable
        path.parent.mkdir(parents=True, exist_ok=True)
        if fresh:
            path.write_text("", encoding="utf-8")

    def created(self, workload_id: str, name: str, project_id: str, kind: str = "trainings") -> None:
        self._write(JournalEntry(CREATED, self.run_id, self.base_url, workload_id, name, project_id, kind))

    def deleted(self, workload_id: str, kind: str = "trainings") -> None:
        self._write(JournalEntry(DELETED, self.run_id, self.base_url, workload_id, kind=kind))

    def _write(self, entry: JournalEntry) -> None:
        line = json.dumps(asdict(entry), sort_keys=True) + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as file:
            file.write(line)
            file.flush()
            if self.durable:
                os.fsync(file.fileno())


def read_entries(path: Path) -> list[JournalEntry]:
    """Entries in order; a line cut short by a crash is skipped, since everything before it still counts."""
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            data = json.loads(line)
            entries.append(JournalEntry(**data))
        except (ValueError, TypeError):
            continue
    return entries


def leftovers(path: Path) -> list[JournalEntry]:
    """Workloads created and not (yet) recorded as deleted, oldest first. A workload id is unique across
    kinds, so a deletion is matched by id (and backend) whatever kind it names."""
    live: dict[tuple[str, str], JournalEntry] = {}
    for entry in read_entries(path):
        key = (entry.base_url, entry.workload_id)
        if entry.event == CREATED:
            live[key] = entry
        elif entry.event == DELETED:
            live.pop(key, None)
    return list(live.values())

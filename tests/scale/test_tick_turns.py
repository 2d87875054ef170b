"""A dashboard tick reads the changed trainings a turn at a time (the event loop serves others between
turns) and sends what a tick in one go sends."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from mockserver.dashboard import hub
from mockserver.dashboard.hub import TABLES, Hub
from tests.scale.test_streams import _app_with_trainings


def _rows(frames: list[str]) -> dict[str, Any]:
    """The delta's rows by table (workloads in their order; the others as a set, keyed) and removals."""
    [delta] = [json.loads(f.split("data: ", 1)[1]) for f in frames if f.startswith("event: delta")]
    shown: dict[str, Any] = {"workloads": [r["workloadId"] for r in delta["upsert"].get("workloads", [])]}
    for table, key in TABLES.items():
        rows = {r[key]: json.dumps(r, sort_keys=True) for r in delta["upsert"].get(table, [])}
        shown[f"{table}-rows"] = rows
    shown["remove"] = {t: sorted(ids) for t, ids in delta["remove"].items()}
    return shown


def test_a_tick_in_turns_yields_between_turns_and_sends_what_one_go_sends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, cluster = _app_with_trainings(9)
    whole, in_turns = Hub(cluster), Hub(cluster)  # the same state, read at the same instant
    turns: list[int] = []
    real_sleep = asyncio.sleep

    async def counting(delay: float) -> None:
        turns.append(len(turns))
        await real_sleep(delay)

    for training in cluster.trainings()[:7]:
        cluster.force_outcome(training.workload_id, "Failed")
    cluster.advance(3)
    monkeypatch.setattr(hub, "TURN", 10**6)
    at_once = whole.tick()
    monkeypatch.setattr(hub, "TURN", 2)
    monkeypatch.setattr(hub.asyncio, "sleep", counting)
    chunked = asyncio.run(in_turns.tick_in_turns())
    monkeypatch.undo()
    assert len(turns) >= 3  # 7 or more changed trainings, 2 a turn: at least three turns in between
    assert _rows(chunked) == _rows(at_once)
    assert len(_rows(at_once)["workloads"]) >= 7
    assert [f for f in chunked if not f.startswith("event: delta")] == [
        f for f in at_once if not f.startswith("event: delta")
    ]

"""An indexed page is rendered a chunk of rows per turn of the event loop, so a single GET waits for one
chunk behind a list, never for the whole page; the answer is the same as rendered in one go."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.handlers import workload_lists
from tests.scale.test_lists import WORKLOADS, _get, api  # noqa: F401  (the module's populated server)


def test_an_indexed_page_yields_the_loop_between_chunks(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    whole = _get(api, WORKLOADS, [("limit", "10"), ("sortBy", "name")])
    turns: list[int] = []
    real_turn = workload_lists._turn

    async def counting() -> None:
        turns.append(len(turns))
        await real_turn()

    monkeypatch.setattr(workload_lists, "RENDER_CHUNK", 3)
    monkeypatch.setattr(workload_lists, "_turn", counting)
    chunked = _get(api, WORKLOADS, [("limit", "10"), ("sortBy", "name")])
    assert chunked == whole and len(whole["workloads"]) == 10
    assert len(turns) == 3  # rows 0-2, 3-5, 6-8, 9: three turns of the loop in between

"""An indexed page is rendered for a bounded time per turn of the event loop, so a single GET waits for one
turn behind a list, never for the whole page; the answer is the same as rendered in one go."""

from __future__ import annotations

import json
from typing import Any

import pytest
from connexion.jsonifier import JSONEncoder

from mockserver.handlers import workload_lists
from tests.scale.test_lists import WORKLOADS, _get, api  # noqa: F401  (the module's populated server)


def test_an_indexed_page_yields_the_loop_between_turns(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setattr(workload_lists, "TURN_SECONDS", 3600.0)  # a turn that never runs out
    monkeypatch.setattr(workload_lists, "MAX_TURN_SECONDS", 3600.0)
    turns: list[int] = []
    real_turn = workload_lists._turn

    async def counting() -> None:
        turns.append(len(turns))
        await real_turn()

    monkeypatch.setattr(workload_lists, "_turn", counting)
    whole = _get(api, WORKLOADS, [("limit", "10"), ("sortBy", "name")])
    # The page in one turn, after one way given: whatever came in while the list's request was read first.
    assert len(whole["workloads"]) == 10 and turns == [0]
    monkeypatch.setattr(workload_lists, "TURN_SECONDS", 0.0)  # a turn runs out after each row
    monkeypatch.setattr(workload_lists, "WAIT_SHARE", 0.0)
    chunked = _get(api, WORKLOADS, [("limit", "10"), ("sortBy", "name")])
    assert chunked == whole
    assert len(turns) == 1 + 10  # one row a turn: the way given before each of the ten rows


def test_turns_grow_with_the_wait_for_the_loop_up_to_a_bound() -> None:
    turns = workload_lists.Turns()
    assert turns.length() == workload_lists.TURN_SECONDS  # an idle loop: the shortest turn
    turns.last_wait = 0.0001
    assert turns.length() == workload_lists.TURN_SECONDS
    turns.last_wait = 0.02  # a busy loop: a share of the wait
    assert turns.length() == pytest.approx(workload_lists.WAIT_SHARE * 0.02)
    turns.last_wait = 10.0
    assert turns.length() == workload_lists.MAX_TURN_SECONDS


@pytest.mark.parametrize("params", [[("limit", "7")], [("limit", "50"), ("offset", "20")], [("limit", "1")]])
def test_an_encoded_page_is_the_body_connexion_writes(api: Any, params: list[tuple[str, str]]) -> None:  # noqa: F811
    """The page is encoded chunk by chunk in the handler: byte for byte what Connexion's jsonifier writes
    for the same answer (the same spacing, key order, escapes and final newline)."""
    response = api.client.get(WORKLOADS, params=params, headers=api.headers)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    answer = json.loads(response.text)
    assert response.text == JSONEncoder().encode(answer) + "\n"
    assert ("next" in answer) is (len(answer["workloads"]) == int(params[0][1]) and answer["workloads"] != [])

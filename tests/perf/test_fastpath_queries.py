"""Lists, counts and the training actions on the fast path answer exactly as Connexion's stack.

The list and the count read a query string (limit, offset, sortBy, sortOrder, filterBy, deleted, search):
the fast path reads it with Connexion's own parser and checks and hands whatever Connexion would refuse to
Connexion. These tests send the same requests to an app with the fast path and one without it (see
test_fastpath_differential.py) and compare the answers byte for byte: hand-picked query strings on both
sides of every parameter's line, then query strings Hypothesis builds from the same pieces.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.http.fastpath import MAX_REMEMBERED_QUERY
from tests.conftest import training
from tests.perf.test_fastpath_differential import TRAININGS, Pair, _fast_path_of, _token, pair

__all__ = ["pair"]  # the module-scoped pair of apps (2.18 and latest), shared with the differential tests

LISTS = ("/api/v1/workloads", "/api/v1/workloads/count")
KEYS = ("limit", "offset", "sortBy", "sortOrder", "filterBy", "deleted", "search", "verbose", "")
VALUES = (
    "",
    "0",
    "1",
    "2",
    "01",
    "+3",
    "-1",
    " 4",
    "1.0",
    "500",
    "501",
    "2147483647",
    "2147483648",
    "99999999999999999999",
    "true",
    "false",
    "True",
    "null",
    "asc",
    "desc",
    "DESC",
    "name",
    "createdAt",
    "phase",
    "nodepool",
    "nope",
    "phase==Running",
    "phase!=Running",
    "name=@diff",
    "name=^q-",
    "projectId==1",
    "type==Training",
    "createdAt>=2020-01-01T00:00:00Z",
    "name==q-a,name==q-b",
    "nope==1",
    "phase=~x",
    "q-",
    "ünï",
)


def _send(pair: Pair, method: str, path: str, auth: dict[str, str]) -> tuple[int, int]:
    """The status both apps gave, and how many answers the fast path gave for it (0 or 1)."""
    fast_path = _fast_path_of(pair.fast._transport.app)
    before = fast_path.served
    status = pair.send(method, path, headers=auth).status_code
    return status, fast_path.served - before


def _population(pair: Pair, auth: dict[str, str]) -> None:
    """A few trainings in different states on both sides, one of them deleted."""
    ids = [
        pair.send("POST", TRAININGS, json=training(f"q-{n}"), headers=auth).json()["workloadId"]
        for n in "abcd"
    ]
    pair.send("POST", "/api/mock/v1/clock/advance", json={"seconds": 30})
    pair.send("POST", f"{TRAININGS}/{ids[1]}/suspend", headers=auth)
    pair.send("DELETE", f"{TRAININGS}/{ids[2]}", headers=auth)
    pair.send("POST", "/api/mock/v1/clock/advance", json={"seconds": 30})


HAND_PICKED = (
    "",
    "?limit=2",
    "?limit=2&offset=1",
    "?limit=2&limit=3",
    "?offset=-1",
    "?limit=0",
    "?limit=501",
    "?limit=01",
    "?limit=%2B3",
    "?limit=1.0",
    "?limit=",
    "?limit=2147483648",
    "?sortBy=name&sortOrder=desc",
    "?sortBy=phase",
    "?sortBy=nope",
    "?sortOrder=DESC",
    "?filterBy=phase==Running",
    "?filterBy=" + quote("phase==Suspended"),
    "?filterBy=name=@q-&filterBy=phase!=Running",
    "?filterBy=name==q-a,name==q-b",
    "?filterBy=nope==1",
    "?filterBy=",
    "?deleted=true",
    "?deleted=True",
    "?deleted=1",
    "?deleted=null",
    "?search=q-",
    "?search=",
    "?verbose=true&limit=1",
    "?&&limit=1&",
    "?=1",
    "?limit=1;offset=1",
    "?" + quote("ünï") + "=1",
)


def test_hand_picked_queries_are_answered_the_same(pair: Pair) -> None:
    auth = {"Authorization": f"Bearer {_token(pair)}"}
    _population(pair, auth)
    outcomes = [_send(pair, "GET", path + query, auth) for path in LISTS for query in HAND_PICKED]
    # Every accepted list or count came from the fast path; Connexion answered every refusal of a
    # parameter (the handler's own refusals, of a filter it cannot read, come from the fast path too).
    declined = [
        q
        for q, (status, served) in zip(HAND_PICKED * 2, outcomes, strict=True)
        if status == 200 and not served
    ]
    assert not declined, declined
    assert sum(1 for status, _ in outcomes if status == 200) >= 30
    assert sum(1 for _, served in outcomes if served == 0) >= 15
    assert {status for status, _ in outcomes} == {200, 400}


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    path=st.sampled_from(LISTS),
    pairs=st.lists(st.tuples(st.sampled_from(KEYS), st.sampled_from(VALUES)), max_size=4),
    encode=st.booleans(),
)
def test_built_queries_are_answered_the_same(
    pair: Pair, path: str, pairs: list[tuple[str, str]], encode: bool
) -> None:
    auth = {"Authorization": f"Bearer {_token(pair)}"}
    spell = quote if encode else (lambda text: text.replace("&", "%26").replace("#", "%23"))
    query = "&".join(f"{spell(k)}={spell(v)}" for k, v in pairs)
    status, served = _send(pair, "GET", f"{path}?{query}" if query else path, auth)
    assert served == 1 or status != 200


def test_training_actions_are_answered_the_same(pair: Pair) -> None:
    auth = {"Authorization": f"Bearer {_token(pair)}"}
    workload_id = pair.send("POST", TRAININGS, json=training("q-act"), headers=auth).json()["workloadId"]
    outcomes: list[tuple[int, int]] = []
    for action in ("suspend", "suspend", "resume", "resume"):
        outcomes.append(_send(pair, "POST", f"{TRAININGS}/{workload_id}/{action}", auth))
        pair.send("POST", "/api/mock/v1/clock/advance", json={"seconds": 5})
    with_body: dict[str, Any] = {"content": b"{}", "headers": {**auth, "Content-Type": "text/plain"}}
    pair.send("POST", f"{TRAININGS}/{workload_id}/suspend", **with_body)
    pair.send("POST", f"{TRAININGS}/{workload_id}/suspend?force=1", headers=auth)
    for refused in ("06d16c5d-4728-42fa-b573-3b11820d999f", "not-a-uuid"):
        pair.send("POST", f"{TRAININGS}/{refused}/resume", headers=auth)
        pair.send("DELETE", f"{TRAININGS}/{refused}", headers=auth)
    pair.send("POST", f"{TRAININGS}/{workload_id}/resume", headers={})
    outcomes.append(_send(pair, "DELETE", f"{TRAININGS}/{workload_id}", auth))
    outcomes.append(_send(pair, "DELETE", f"{TRAININGS}/{workload_id}", auth))
    accepted = [served for status, served in outcomes if status < 300]
    assert len(accepted) >= 3 and all(served == 1 for served in accepted), outcomes


@pytest.mark.parametrize("query", ["?limit=2", "?filterBy=phase==Running"])
def test_a_remembered_query_is_read_afresh_for_each_request(pair: Pair, query: str) -> None:
    """The reading of a query string is remembered; a handler that changed what it was given must not
    change the next request's arguments (each request gets its own copy)."""
    fast_path = _fast_path_of(pair.fast._transport.app)
    reader = next(hot.query for hot in fast_path.hot if hot.operation.operation_id.endswith("get_workloads"))
    assert reader is not None
    first = reader.read(query.lstrip("?").encode())
    assert first is not None
    first.clear()
    again = reader.read(query.lstrip("?").encode())
    assert again and again != first


def test_a_long_query_string_is_read_but_not_remembered(pair: Pair) -> None:
    fast_path = _fast_path_of(pair.fast._transport.app)
    reader = next(hot.query for hot in fast_path.hot if hot.operation.operation_id.endswith("get_workloads"))
    assert reader is not None
    long_query = ("limit=3&" + "&".join(f"x{n}=y" for n in range(200))).encode()
    assert len(long_query) > MAX_REMEMBERED_QUERY
    assert reader.read(long_query) == reader.read(b"limit=3")
    assert long_query not in reader.known and b"limit=3" in reader.known
    auth = {"Authorization": f"Bearer {_token(pair)}"}
    status, served = _send(pair, "GET", "/api/v1/workloads?" + long_query.decode(), auth)
    assert (status, served) == (200, 1)

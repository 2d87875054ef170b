"""The request journal: what a client sent, in order, with caller, operation, workload, status and times."""

from __future__ import annotations

import warnings

import pytest

from mockserver.app import create_app
from mockserver.requests_ring import RequestFilter, RequestRing
from tests.conftest import Api, get_token, training

CONTROL = "/api/mock/v1"


def _entries(client, **params):
    response = client.get(f"{CONTROL}/requests", params=params)
    assert response.status_code == 200, response.text
    return response.json()["requests"]


def test_every_api_request_is_recorded_with_its_operation_workload_caller_and_status(api, client) -> None:
    created = api.create(training("journal")).json()["workloadId"]
    api.advance(3)
    api.get(created)
    client.get(f"/api/v1/workloads/trainings/{created}/suspend", headers=api.headers)  # POST-only
    client.get(f"/api/v1/workloads/trainings/{created}")  # no token
    client.get(f"{CONTROL}/clock")  # the control API is not the client's traffic
    entries = _entries(client)
    assert [(e["method"], e["operationId"], e["status"]) for e in entries] == [
        ("POST", "grant_token", 200),
        ("POST", "create_training1", 200),
        ("GET", "get_training", 200),
        ("GET", None, 405),
        ("GET", "get_training", 401),
    ]
    assert [e["workloadId"] for e in entries[1:]] == [created] * 4
    assert [e["caller"] for e in entries] == [None, "mock-app", "mock-app", "mock-app", None]
    assert [e["bearer"] for e in entries] == [False, True, True, True, False]
    # The virtual clock when each arrived: the read came 3 s after the create.
    assert entries[1]["time"] == "2025-01-01T00:00:00.000Z"
    assert entries[2]["time"] == "2025-01-01T00:00:03.000Z"
    assert [e["seq"] for e in entries] == sorted({e["seq"] for e in entries})
    assert all(e["durationMs"] >= 0 and e["wallTime"].endswith("Z") for e in entries)


def test_filters_by_operation_workload_caller_after_and_since(api, client) -> None:
    first = api.create(training("one")).json()["workloadId"]
    api.advance(10)
    second = api.create(training("two")).json()["workloadId"]
    for workload in (first, second, second):
        api.get(workload)
    assert [e["workloadId"] for e in _entries(client, operation="get_training")] == [first, second, second]
    assert len(_entries(client, workload=second)) == 3
    assert len(_entries(client, caller="mock-app")) == 5
    assert _entries(client, caller="someone-else") == []
    later = _entries(client, since="2025-01-01T00:00:05Z")
    assert [e["operationId"] for e in later] == ["create_training1", *["get_training"] * 3]
    seq = _entries(client)[-2]["seq"]
    assert [e["seq"] for e in _entries(client, after=seq)] == [seq + 1]
    assert len(_entries(client, limit=2)) == 2


def test_bad_filters_are_400_with_the_api_error_body(client) -> None:
    for params in ({"since": "yesterday"}, {"after": -1}, {"limit": 0}):
        response = client.get(f"{CONTROL}/requests", params=params)
        assert response.status_code == 400, params
        assert set(response.json()) >= {"code", "message"}


def test_reset_empties_the_journal_and_sequence_numbers_go_on(api, client) -> None:
    api.create(training("before"))
    last = _entries(client)[-1]["seq"]
    assert client.post(f"{CONTROL}/reset", headers={"X-Mock-Control": "1"}).status_code == 204
    assert _entries(client) == []
    get_token(client)
    assert _entries(client)[0]["seq"] > last


def test_the_ring_keeps_the_newest_and_counts_what_it_dropped() -> None:
    app = create_app(request_journal=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client = app.test_client()
    api = Api(client, {"Authorization": f"Bearer {get_token(client)}"})
    ids = [api.create(training(f"r{i}")).json()["workloadId"] for i in range(4)]
    body = client.get(f"{CONTROL}/requests").json()
    assert body["size"] == 3 and body["dropped"] == 2
    assert [e["workloadId"] for e in body["requests"]] == ids[1:]


def test_no_journal_records_nothing() -> None:
    app = create_app(request_journal=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client = app.test_client()
    get_token(client)
    assert client.get(f"{CONTROL}/requests").json() == {"requests": [], "size": 0, "dropped": 0}


def test_the_ring_filters_rows_without_building_records_for_the_rest() -> None:
    ring = RequestRing(5)
    for i in range(8):
        ring.add((ring.next_seq(), 0.0, 0.0, float(i), "GET", "/x", "op", None, 200, "c", True, False, None))
    assert [r.seq for r in ring.select()] == [4, 5, 6, 7, 8]
    assert [r.virtual_at for r in ring.select(RequestFilter(since=6.0))] == [6.0, 7.0]
    assert ring.dropped == 3
    with pytest.raises(ValueError):
        RequestRing(-1)


def test_a_long_path_is_kept_cut(api, client) -> None:
    api.client.get("/api/v1/workloads/trainings/" + "x" * 5000, headers=api.headers)
    [entry] = [e for e in _entries(client) if e["method"] == "GET"]
    assert len(entry["path"]) == 1001 and entry["path"].endswith("…")

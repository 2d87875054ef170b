"""The dashboard's server side without a browser: its pages, the event stream's frames, real-deployment mode."""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from mockserver.app import create_app
from mockserver.cluster.cluster import FakeCluster
from mockserver.dashboard import hub, stream
from mockserver.dashboard.stream import cluster_stream

CLUSTER_ID = "71f69d83-ba66-4822-adf5-55ce55efd210"
TOKEN_BODY = {"grantType": "app_token", "AppId": "mock-app", "AppSecret": "mock-secret"}


@pytest.fixture
def app() -> Any:
    return create_app()


@pytest.fixture
def client(app: Any) -> Iterator[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with app.test_client() as test_client:
            yield test_client


def parse(frame: str) -> tuple[str, Any, str | None]:
    fields = dict(line.split(": ", 1) for line in frame.strip().splitlines() if not line.startswith(":"))
    return fields.get("event", ""), json.loads(fields["data"]) if "data" in fields else None, fields.get("id")


async def frames(source: AsyncIterator[str], count: int) -> list[tuple[str, Any, str | None]]:
    return [parse(await asyncio.wait_for(source.__anext__(), timeout=5)) for _ in range(count)]


def test_the_page_and_its_files_are_served_with_a_strict_policy(client: Any) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert '<script src="/dashboard/app.js"' in page.text and "http" not in page.text.split("<body>")[0]
    for asset, kind in (("/dashboard/app.js", "text/javascript"), ("/dashboard/style.css", "text/css")):
        answer = client.get(asset)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith(kind)
    assert client.head("/").content == b""
    missing = client.get("/dashboard/nothing.js")
    assert missing.status_code == 404 and missing.json()["code"] == 404


def test_a_real_deployment_has_no_dashboard_and_no_stream() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with create_app(real_deployment=True).test_client() as client:
            assert client.get("/").status_code == 404
            assert client.get("/api/mock/v1/stream").status_code == 404


def test_stream_refuses_a_bad_start_and_other_methods(client: Any) -> None:
    bad = client.get("/api/mock/v1/stream?after=-1")
    assert (bad.status_code, bad.json()["code"]) == (400, 400)
    assert client.get("/api/mock/v1/stream", headers={"Last-Event-ID": "x"}).status_code == 400
    posted = client.post("/api/mock/v1/stream", headers={"X-Mock-Control": "1"})
    assert (posted.status_code, posted.headers["allow"], posted.json()["code"]) == (405, "GET", 405)


def test_the_stream_is_not_in_the_control_contract(client: Any) -> None:
    # An endless answer would stall Swagger UI's "Try it out" and every fuzzer; the README documents it.
    assert "/stream" not in client.get("/api/mock/v1/openapi.json").json()["paths"]


def test_stream_sends_snapshot_and_events_then_what_changes(app: Any, client: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(hub, "TICK_SECONDS", 0.01)
    cluster: FakeCluster = app.mock_state.cluster
    token = client.post("/api/v1/token", json=TOKEN_BODY).json()["accessToken"]
    body = {"name": "streamed", "projectId": "1", "clusterId": CLUSTER_ID, "spec": {"image": "busybox"}}
    created = client.post(
        "/api/v1/workloads/trainings", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    workload = created.json()["workloadId"]

    async def scenario() -> None:
        source = cluster_stream(cluster, 0)
        assert await source.__anext__() == f"retry: {stream.RETRY_MS}\n\n"
        (kind, snapshot, _), (kind2, events, last_id) = await frames(source, 2)
        assert kind == "snapshot" and [t["name"] for t in snapshot["workloads"]] == ["streamed"]
        assert snapshot["workloads"][0]["history"][0]["phase"] == "Creating"
        assert kind2 == "events" and {e["workloadId"] for e in events} == {workload}
        assert last_id == str(events[-1]["seq"])

        cluster.advance(5)  # the manual clock moves: what changed (a delta), then the new events
        (kind, delta, _), (kind2, events, _) = await frames(source, 2)
        assert (kind, kind2) == ("delta", "events")
        assert delta["now"] == "2025-01-01T00:00:05.000Z"
        [changed] = delta["upsert"]["workloads"]
        assert changed["actualPhase"] == "Running" and delta["remove"] == {}
        # Only the phases after the one the snapshot showed (`historyFrom`: how many came before).
        assert changed["historyFrom"] == 1
        assert [h["phase"] for h in changed["history"]] == ["Pending", "Initializing", "Running"]
        assert "entered Running" in [e["message"] for e in events]

        cluster.reset()
        (kind, clock, _), (kind2, snapshot, _) = await frames(source, 2)
        assert kind == "reset" and clock["now"] == "2025-01-01T00:00:00.000Z"
        assert kind2 == "snapshot" and snapshot["workloads"] == []
        await source.aclose()

    asyncio.run(scenario())


def test_stream_resumes_after_the_last_event_id(app: Any, client: Any) -> None:
    cluster: FakeCluster = app.mock_state.cluster
    token = client.post("/api/v1/token", json=TOKEN_BODY).json()["accessToken"]
    body = {"name": "resumed", "projectId": "1", "clusterId": CLUSTER_ID, "spec": {"image": "busybox"}}
    client.post("/api/v1/workloads/trainings", json=body, headers={"Authorization": f"Bearer {token}"})
    cluster.advance(5)
    seen = [e.seq for e in cluster.events_after(0)]

    async def first_events(after: int) -> list[int]:
        source = cluster_stream(cluster, after)
        await source.__anext__()
        _, (kind, events, _) = await frames(source, 2)
        await source.aclose()
        assert kind == "events"
        return [e["seq"] for e in events]

    assert asyncio.run(first_events(0)) == seen
    assert asyncio.run(first_events(seen[2])) == seen[3:]

"""Dashboard streams that scale: one look at the cluster per tick for every stream, deltas after the
snapshot, and bounds that keep streams from taking what API clients need."""

from __future__ import annotations

import asyncio
import json
import socket
import warnings
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mockserver.app import create_app
from mockserver.cluster.cluster import FakeCluster
from mockserver.dashboard import hub, stream
from mockserver.dashboard.stream import EventStream, cluster_stream
from mockserver.http.limits import MAX_CONNECTIONS
from tests.cli.live import start
from tests.ui.test_stream import CLUSTER_ID, TOKEN_BODY, frames

BODY = {"name": "streamed", "projectId": "1", "clusterId": CLUSTER_ID, "spec": {"image": "busybox"}}


def _app_with_trainings(count: int) -> tuple[Any, FakeCluster]:
    app = create_app()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with app.test_client() as client:
            token = client.post("/api/v1/token", json=TOKEN_BODY).json()["accessToken"]
            for i in range(count):
                body = {**BODY, "name": f"streamed-{i}"}
                headers = {"Authorization": f"Bearer {token}"}
                assert (
                    client.post("/api/v1/workloads/trainings", json=body, headers=headers).status_code == 200
                )
    return app, app.mock_state.cluster


async def _opened(cluster: FakeCluster) -> tuple[AsyncIterator[str], dict[str, Any]]:
    logged = cluster.events_after(0, 10**9)
    source = cluster_stream(cluster, logged[-1].seq if logged else 0)  # no backlog: the log is known
    await source.__anext__()  # retry
    [(kind, snapshot, _)] = await frames(source, 1)
    assert kind == "snapshot"
    return source, snapshot


def test_streams_share_one_look_per_tick_and_send_only_what_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub, "TICK_SECONDS", 0.01)
    _, cluster = _app_with_trainings(30)
    looks: list[set[str] | None] = []
    real = hub.Hub._refresh

    def counted(self: hub.Hub, reader: Any, changed: set[str] | None) -> dict[str, Any]:
        looks.append(changed)
        return real(self, reader, changed)

    monkeypatch.setattr(hub.Hub, "_refresh", counted)

    async def scenario() -> None:
        opened = [await _opened(cluster) for _ in range(3)]
        assert all(len(snapshot["workloads"]) == 30 for _, snapshot in opened)
        looks.clear()
        target = cluster.trainings()[7].workload_id
        cluster.force_outcome(target, "Failed")
        got = [await frames(source, 2) for source, _ in opened]
        texts = {json.dumps(frames_of_one) for frames_of_one in got}
        assert len(texts) == 1, [[f[0] for f in g] for g in got]  # the same frames for every stream
        (kind, delta, _), (kind2, _, _) = got[0]
        assert (kind, kind2) == ("delta", "events")
        assert [t["workloadId"] for t in delta["upsert"]["workloads"]] == [target]
        assert delta["upsert"]["workloads"][0]["actualPhase"] == "Failed"
        assert looks == [{target}]  # one look, at the one workload the events named
        cluster.delete(target, _anyone())
        cluster.advance(1)
        for source, _ in opened:
            [(kind, delta, _)] = await frames(source, 1)
            while kind != "delta" or target not in delta["remove"].get("workloads", []):
                [(kind, delta, _)] = await frames(source, 1)
            await source.aclose()

    asyncio.run(scenario())


def _anyone() -> Any:
    from mockserver.http.auth import Principal

    return Principal("tester", "tester@example.com", None)


def test_a_stream_that_is_not_read_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub, "TICK_SECONDS", 0.005)
    monkeypatch.setattr(stream, "MAX_QUEUED", 3)
    _, cluster = _app_with_trainings(2)

    async def scenario() -> None:
        source, _ = await _opened(cluster)
        for _ in range(8):  # changes pile up while the client reads nothing
            cluster.advance(1)
            await asyncio.sleep(0.02)
        ended = False
        for _ in range(20):
            try:
                await asyncio.wait_for(source.__anext__(), timeout=2)
            except StopAsyncIteration:
                ended = True
                break
        assert ended

    asyncio.run(scenario())


def test_more_streams_than_the_cap_are_refused_in_json_and_closed() -> None:
    app, cluster = _app_with_trainings(0)
    guard = EventStream(app, cluster)
    guard.open = stream.MAX_STREAMS
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": stream.STREAM_PATH, "headers": [], "query_string": b""}
    asyncio.run(guard(scope, receive, send))
    start_message, body = sent[0], sent[1]
    headers = dict(start_message["headers"])
    assert start_message["status"] == 503 and headers[b"connection"] == b"close"
    assert json.loads(body["body"])["code"] == 503


def test_the_api_answers_while_more_streams_than_connections_allow_are_asked_for() -> None:
    """255 dashboards at once: the stream cap refuses and closes most, so an API GET still answers 200."""
    live = start("--quiet")
    try:
        host, port = httpx.URL(live.base_url).host, httpx.URL(live.base_url).port
        request = f"GET {stream.STREAM_PATH} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
        sockets = []
        for _ in range(MAX_CONNECTIONS - 1):
            sock = socket.create_connection((host, port), timeout=10)
            sock.sendall(request)
            sockets.append(sock)
        statuses = [sock.recv(64).split(b" ")[1] for sock in sockets]
        assert statuses.count(b"200") == stream.MAX_STREAMS
        assert statuses.count(b"503") == len(sockets) - stream.MAX_STREAMS
        token = httpx.post(f"{live.base_url}/api/v1/token", json=TOKEN_BODY, timeout=10).json()["accessToken"]
        answer = httpx.get(
            f"{live.base_url}/api/v1/workloads", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert answer.status_code == 200
        for sock in sockets:
            sock.close()
    finally:
        code, _, err = live.stop()
        assert code == 0, err

"""Hostile input against a live server over raw sockets: every answer a JSON `{code, message}` 4xx within a
bound, and the server answers normally afterwards (issue 11)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys
from collections.abc import Iterator

import httpx
import pytest

from contracts.backend.server import HOST, LocalServer
from tests.hardening.hostile_cases import CASES, CLUSTER_ID, TRAININGS, Case, Keys
from tests.hardening.rawhttp import exchange, request_bytes

pytestmark = pytest.mark.slow  # one live server for ~200 requests, a dozen of them waiting out the timeout

TOKEN_SECRET = "hostile-suite-secret"
READ_TIMEOUT = 1


def serve_command(port: int) -> list[str]:
    return [
        sys.executable, "-m", "mockserver", "--host", HOST, "--port", str(port), "--clock", "manual",
        "--seed", "11", "--read-timeout", str(READ_TIMEOUT), "--token-secret", TOKEN_SECRET,
    ]  # fmt: skip


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(claims: dict[str, object]) -> str:
    """A JWT signed as the server signs with --token-secret (the key is the secret's SHA-256)."""
    signing_input = _b64(b'{"alg":"HS256","typ":"JWT"}') + "." + _b64(json.dumps(claims).encode())
    key = hashlib.sha256(TOKEN_SECRET.encode()).digest()
    return signing_input + "." + _b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer.start(serve_command) as live:
        yield live


@pytest.fixture(scope="module")
def keys(server: LocalServer) -> Keys:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        token = client.post(
            "/api/v1/token", json={"grantType": "app_token", "AppId": "mock-app", "AppSecret": "mock-secret"}
        ).json()["accessToken"]
        created = client.post(
            TRAININGS,
            headers={"Authorization": f"Bearer {token}"},
            json={"name": "target", "projectId": "1", "clusterId": CLUSTER_ID, "spec": {"image": "busybox"}},
        )
        assert created.status_code == 200, created.text
    return Keys(token=token, sign=sign, workload_id=created.json()["workloadId"])


def assert_healthy(server: LocalServer, keys: Keys) -> None:
    answer = exchange(server.base_url, request_bytes("GET", "/api/mock/v1/clock"), timeout=5)
    assert answer.status == 200, answer.body
    path = f"{TRAININGS}/{keys.workload_id}"
    answer = exchange(server.base_url, request_bytes("GET", path, {"Authorization": f"Bearer {keys.token}"}))
    assert answer.status == 200 and answer.json()["workloadId"] == keys.workload_id


def test_there_are_at_least_a_hundred_cases() -> None:
    assert len(CASES) >= 100
    assert len({c.name for c in CASES}) == len(CASES), "case names must be unique"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input_gets_a_json_4xx_and_the_server_goes_on(
    server: LocalServer, keys: Keys, case: Case
) -> None:
    answer = exchange(server.base_url, case.build(keys))
    assert answer.status in case.expect, (answer.status, answer.body[:500])
    assert answer.headers.get("content-type", "").startswith("application/json"), answer.headers
    body = answer.json()
    assert body["code"] == answer.status and isinstance(body["message"], str) and body["message"]
    # Bounded answers: the error bomb's 345k problems come back as 50 and a count, not 44 MB.
    assert len(answer.body) < 16_384, len(answer.body)
    assert len(body.get("complianceIssues", [])) <= 50
    assert_healthy(server, keys)


def test_the_error_bomb_names_the_problems_it_leaves_out(server: LocalServer, keys: Keys) -> None:
    body = {
        "name": "bomb",
        "projectId": "1",
        "clusterId": CLUSTER_ID,
        "spec": {"image": "x", "nodePools": [1] * 5000},
    }
    raw = json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {keys.token}", "Content-Type": "application/json"}
    answer = exchange(server.base_url, request_bytes("POST", TRAININGS, headers, raw))
    assert answer.status == 400
    error = answer.json()
    assert len(error["complianceIssues"]) == 50
    assert error["complianceIssues"][0]["field"].startswith("spec.nodePools[")
    assert error["message"].endswith("… (more than 1000 problems; complianceIssues lists the first 50)")


def test_slow_bodies_are_cut_at_the_read_timeout(server: LocalServer, keys: Keys) -> None:
    headers = {
        "Authorization": f"Bearer {keys.token}",
        "Content-Type": "application/json",
        "Content-Length": "50",
    }
    answer = exchange(server.base_url, request_bytes("POST", TRAININGS, headers, b"{"))
    assert answer.status == 408 and answer.headers.get("connection") == "close"
    assert f"within {READ_TIMEOUT} seconds" in answer.json()["message"]


def test_a_keep_alive_connection_gets_a_header_deadline_for_its_second_request(server: LocalServer) -> None:
    import socket

    from tests.hardening.rawhttp import address

    with socket.create_connection(address(server.base_url), timeout=8) as sock:
        sock.sendall(b"GET /api/mock/v1/clock HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /api/mock/v1/cl")
        received = b""
        while received.count(b"HTTP/1.1 ") < 2 or not received.endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    assert received.startswith(b"HTTP/1.1 200") and b"HTTP/1.1 408 Request Timeout" in received


@pytest.mark.parametrize(
    "spec",
    [
        {"parallelism": 2_147_483_647},
        {"parallelism": 1_000_000},
        {"completions": 1_000_000, "parallelism": 2},
    ],
    ids=["parallelism 2^31-1", "parallelism 10^6", "completions 10^6"],
)
def test_absurd_counts_are_refused_and_scheduling_goes_on(
    server: LocalServer, keys: Keys, spec: dict[str, int]
) -> None:
    """Issue 11, item 1: one schema-valid create stopped the server at its next scheduling cycle."""
    body = {"name": "par", "projectId": "1", "clusterId": CLUSTER_ID, "spec": {"image": "busybox", **spec}}
    headers = {"Authorization": f"Bearer {keys.token}", "Content-Type": "application/json"}
    answer = exchange(server.base_url, request_bytes("POST", TRAININGS, headers, json.dumps(body).encode()))
    assert answer.status == 400, answer.body[:300]
    assert next(iter(spec)) in answer.json()["message"]
    advance = request_bytes(
        "POST", "/api/mock/v1/clock/advance", {"Content-Type": "application/json"}, b'{"seconds": 3}'
    )
    assert exchange(server.base_url, advance).status == 200
    assert_healthy(server, keys)


def test_idle_connections_cannot_take_every_slot(server: LocalServer, keys: Keys) -> None:
    """A slowloris holds connections open without sending; a new client still gets its answer, because
    the idlest connection makes room for it (issue 21), and the header deadline frees the rest."""
    import socket

    from mockserver.http.limits import MAX_CONNECTIONS
    from tests.hardening.rawhttp import address

    idle = [socket.create_connection(address(server.base_url), timeout=5) for _ in range(MAX_CONNECTIONS)]
    try:
        served = exchange(server.base_url, request_bytes("GET", "/api/mock/v1/clock"))
        assert served.status == 200
        for sock in idle:  # pushed out (closed), or its 408 when its header deadline passed
            sock.settimeout(READ_TIMEOUT + 5)
            received = sock.recv(65536)
            assert received == b"" or received.startswith(b"HTTP/1.1 408 Request Timeout")
    finally:
        for sock in idle:
            sock.close()
    assert_healthy(server, keys)

"""Issue 21 at the edge, in-process: one reading of each request head, the control API out of reach of
web pages, logs as data, and JSON for every refusal. Each case asserts the refusal and that nothing
changed. The live-server and browser cases are in test_pages_live.py."""

from __future__ import annotations

import base64
import io
import json
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from mockserver.app import create_app
from mockserver.http.requesthead import HostPolicy
from tests.conftest import get_token, training

TRAININGS = "/api/v1/workloads/trainings"
CONTROL = "/api/mock/v1"
CHANGE = {"X-Mock-Control": "1"}


def client_of(app: Any, base_url: str = "http://testserver") -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client = app.test_client()
    client.base_url = base_url
    return client


@pytest.fixture
def fake() -> Iterator[tuple[Any, dict[str, str], str]]:
    """A client, its token header, and one existing training's id."""
    with client_of(create_app()) as client:
        auth = {"Authorization": f"Bearer {get_token(client)}"}
        created = client.post(TRAININGS, json=training("existing"), headers=auth)
        yield client, auth, created.json()["workloadId"]


def names(client: Any, auth: dict[str, str]) -> list[str]:
    return sorted(w["name"] for w in client.get("/api/v1/workloads", headers=auth).json()["workloads"])


def refused(answer: Any, status: int, words: str) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["code"] == status and words in body["message"], body


# ------------------------------------------------------------------------- one reading of each head
@pytest.mark.parametrize("header", ["Authorization", "Content-Type", "Content-Length", "Host"])
def test_a_deciding_header_sent_twice_is_refused_before_anything_runs(fake: Any, header: str) -> None:
    client, auth, _ = fake
    body = json.dumps(training("twice")).encode()
    values = {
        "Authorization": [auth["Authorization"], "Bearer garbage"],
        "Content-Type": ["application/json", "text/plain"],
        "Content-Length": [str(len(body)), str(len(body))],
        "Host": ["testserver", "127.0.0.1"],
    }[header]
    headers = [("Authorization", auth["Authorization"]), ("Content-Type", "application/json")]
    headers = [(k, v) for k, v in headers if k != header] + [(header, v) for v in values]
    answer = client.post(TRAININGS, content=body, headers=headers)
    refused(answer, 400, f"The {header} header was sent more than once")
    assert names(client, auth) == ["existing"]


# --------------------------------------------------------------------------------- Host (rebinding)
@pytest.mark.parametrize(
    "host", ["http://attacker.example:8080", "http://192.168.1.20", "http://localhost.evil"]
)
def test_a_host_that_is_no_name_of_ours_is_refused(host: str) -> None:
    app = create_app(hosts=HostPolicy(["127.0.0.1"]))
    with client_of(app, host) as client:
        refused(client.post(f"{CONTROL}/reset", headers=CHANGE), 400, "is not a name this server answers to")
        refused(client.get(f"{CONTROL}/snapshot"), 400, "--allowed-host")
    with client_of(app, "http://127.0.0.1:8080") as client:
        assert client.get(f"{CONTROL}/clock").status_code == 200


@pytest.mark.parametrize(
    "host",
    [
        "http://127.0.0.1:9",
        "http://localhost:1",
        "http://[::1]:8080",
        "http://app.localhost",
        "http://ci-box",
    ],
)
def test_loopback_names_and_allowed_hosts_are_answered(host: str) -> None:
    with client_of(create_app(hosts=HostPolicy(["127.0.0.1", "ci-box"])), host) as client:
        assert client.get(f"{CONTROL}/clock").status_code == 200


# ------------------------------------------------------------------------------ control API vs pages
@pytest.mark.parametrize(
    "headers",
    [{}, {"Content-Type": "text/plain"}, {"Content-Type": "application/x-www-form-urlencoded"},
     {"Content-Type": "multipart/form-data; boundary=x"}],
)  # fmt: skip
def test_a_control_call_a_page_could_send_without_asking_is_refused(
    fake: Any, headers: dict[str, str]
) -> None:
    client, auth, _ = fake
    before = client.get(f"{CONTROL}/snapshot").json()
    refused(client.post(f"{CONTROL}/reset", headers=headers), 403, "X-Mock-Control")
    refused(
        client.post(f"{CONTROL}/clock/advance", content=b'{"seconds": 60}', headers=headers), 403, "web page"
    )
    refused(
        client.put(f"{CONTROL}/faults", content=b'{"errorRate": 1}', headers=headers), 403, "X-Mock-Control"
    )
    assert client.get(f"{CONTROL}/snapshot").json() == before
    assert names(client, auth) == ["existing"]
    assert client.get(f"{CONTROL}/faults").json()["errorRate"] == 0


def test_a_control_call_from_another_origin_is_refused_even_when_well_formed(fake: Any) -> None:
    client, auth, _ = fake
    evil = {"Origin": "http://evil.test", **CHANGE}
    refused(client.post(f"{CONTROL}/reset", headers=evil), 403, "another origin")
    refused(client.put(f"{CONTROL}/faults", json={"errorRate": 1}, headers=evil), 403, "--control-cors")
    refused(client.get(f"{CONTROL}/snapshot", headers=evil), 403, "another origin")
    assert names(client, auth) == ["existing"]
    # The dashboard is same-origin: its own page's Origin is the server's.
    assert (
        client.post(f"{CONTROL}/reset", headers={"Origin": "http://testserver", **CHANGE}).status_code == 204
    )
    assert names(client, auth) == []


def test_cors_for_the_api_never_opens_the_control_api() -> None:
    with client_of(create_app(cors="*")) as client:
        page = {"Origin": "http://evil.test"}
        api = client.post(
            "/api/v1/token", json={"AppId": "mock-app", "AppSecret": "mock-secret"}, headers=page
        )
        assert api.headers["access-control-allow-origin"] == "*"
        snapshot = client.get(f"{CONTROL}/snapshot", headers=page)
        assert snapshot.status_code == 403 and "access-control-allow-origin" not in snapshot.headers
        preflight = client.options(
            f"{CONTROL}/faults", headers={**page, "Access-Control-Request-Method": "PUT"}
        )
        refused(preflight, 403, "--control-cors")


def test_control_cors_lets_a_named_page_in() -> None:
    with client_of(create_app(control_cors="http://dash.test")) as client:
        page = {"Origin": "http://dash.test", **CHANGE}
        answer = client.put(f"{CONTROL}/faults", json={"errorRate": 0.5}, headers=page)
        assert (
            answer.status_code == 200 and answer.headers["access-control-allow-origin"] == "http://dash.test"
        )
        refused(
            client.get(f"{CONTROL}/clock", headers={"Origin": "http://other.test"}), 403, "another origin"
        )


# ----------------------------------------------------------------------------------- logs are data
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_the_request_log_cannot_be_forged_or_reach_the_terminal() -> None:
    sink = io.StringIO()
    with client_of(create_app(request_log=sink)) as client:
        token = get_token(client)
        # Sent percent-encoded, as on the wire: the ASGI path has the line break and the ESC decoded.
        client.get("/api/v1/x%0a12:00:00.000%20POST%20/api/mock/v1/reset%20204%200.1ms%20caller=root")
        client.get("/api/v1/%1b]0;owned%07%1b[2J")
        client.get("/api/v1/%0d%0aX%1b[31m", headers={"Authorization": f"Bearer {token}"})
        unsigned = ".".join(
            [
                _b64(b'{"alg":"none"}'),
                _b64(json.dumps({"sub": "root-admin", "iss": "runai-mockserver"}).encode()),
                "",
            ]
        )
        client.get("/api/v1/workloads", headers={"Authorization": f"Bearer {unsigned}"})
        client.get("/api/v1/workloads", headers={"Authorization": f"Bearer {token}"})
    lines = sink.getvalue().splitlines()
    assert len(lines) == 6, lines  # the token, five requests: one line each
    assert all(line.isprintable() and line.isascii() for line in lines)
    assert "/api/v1/x%0A12:00:00.000%20POST" in lines[1] and "/api/v1/%1B%5D0;owned%07%1B%5B2J" in lines[2]
    assert lines[4].endswith("caller=-"), "a token that does not verify logs no caller"
    assert lines[5].endswith("caller=mock-app")


# -------------------------------------------------------------------------- every refusal is JSON
@pytest.mark.parametrize("code", ["²", "9" * 5000, "٣", "0x1f4", "-404"])
def test_prefer_code_of_any_spelling_is_a_json_400(fake: Any, code: str) -> None:
    client, _, _ = fake
    answer = client.get("/api/v1/workloads", headers={"Prefer": f"code={code}".encode()})
    refused(answer, 400, "is not a documented answer")


@pytest.mark.parametrize("value", ["²", "9" * 5000, "٣", "-1", "1e3"])
def test_stream_cursors_of_any_spelling_are_a_json_400(fake: Any, value: str) -> None:
    client, _, _ = fake
    refused(client.get(f"{CONTROL}/stream", params={"after": value}), 400, "non-negative integers")
    refused(client.get(f"{CONTROL}/stream", headers={"Last-Event-ID": value.encode()}), 400, "")


@pytest.mark.parametrize("value", ["²", "9" * 5000])
def test_the_events_cursor_of_any_spelling_is_a_json_400(fake: Any, value: str) -> None:
    client, _, _ = fake
    answer = client.get(f"{CONTROL}/events", params={"after": value})
    assert answer.status_code == 400 and answer.json()["code"] == 400


# ------------------------------------------------------------------------------------ the CLI's names
def test_the_cli_answers_loopback_its_own_address_and_the_allowed_hosts_only() -> None:
    from mockserver.cli import host_policy, parse_args

    default = host_policy("127.0.0.1", None)
    assert default is not None and default.allows("127.0.0.1:8080") and default.allows("localhost:8080")
    assert not default.allows("attacker.example:8080") and not default.allows("10.0.0.5")
    exposed = host_policy("10.0.0.5", "ci-box,ci-box.lan")
    assert exposed is not None and all(
        exposed.allows(h) for h in ("10.0.0.5:80", "CI-BOX", "ci-box.lan.:8080")
    )
    assert not exposed.allows("rebind.test")
    assert host_policy("0.0.0.0", None) is None, "exposed on every address: its names are unknown"
    args = parse_args(["--allowed-host", "ci-box", "--control-cors", "http://dash.test"], environ={})
    assert (args.allowed_host, args.control_cors) == ("ci-box", "http://dash.test")
    assert parse_args([], environ={"RUNAI_MOCK_STATE_RECOVER": "1"}).state_recover

"""The hardening pieces in-process: safe JSON, token keys, the exposed control API, error logging."""

from __future__ import annotations

import asyncio
import logging
import math
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from mockserver.app import create_app
from mockserver.cli import parse_args
from mockserver.http.exposure import exposure_notice, is_loopback
from mockserver.http.jsonsafe import MAX_DEPTH, UnsafeJson, loads, nesting_depth
from tests.conftest import training

TOKEN_BODY = {"grantType": "app_token", "AppId": "mock-app", "AppSecret": "mock-secret"}


def client_of(app: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return app.test_client()


@pytest.fixture
def client() -> Iterator[Any]:
    with client_of(create_app()) as test_client:
        yield test_client


# ------------------------------------------------------------------ jsonsafe
@pytest.mark.parametrize(
    "text",
    [
        "NaN",
        "[Infinity]",
        '{"a": -Infinity}',
        "1e400",
        "-1e400",
        "9" * 41,
        "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1),
    ],
)
def test_unsafe_json_is_refused(text: str) -> None:
    with pytest.raises(UnsafeJson):
        loads(text)


def test_safe_json_parses_as_the_standard_decoder_does() -> None:
    text = '{"a": [1, 2.5, -3e2, "x[{\\"]"], "b": {"c": null, "d": true}}'
    assert loads(text) == {"a": [1, 2.5, -300.0, 'x[{"]'], "b": {"c": None, "d": True}}
    assert loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    assert all(math.isfinite(v) for v in loads("[1e308, -1e308, 5e-324]"))


@pytest.mark.parametrize("text", ['{"name": ', "[" * 100 + "]", "]" * 70, "[{]}"])
def test_malformed_json_is_called_malformed_not_deep(text: str) -> None:
    with pytest.raises(UnsafeJson, match="not valid JSON" if text.count("[") < 70 else "nests 100 levels"):
        loads(text)


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    assert nesting_depth('["[[[[", {"k": "}}}{{{"}]') == 2
    assert nesting_depth('"\\"[[["') == 0


# ------------------------------------------------------------------ tokens
def test_the_token_key_is_random_per_process_even_with_the_same_seed() -> None:
    first, second = create_app(seed=7), create_app(seed=7)
    with client_of(first) as one, client_of(second) as other:
        token = one.post("/api/v1/token", json=TOKEN_BODY).json()["accessToken"]
        headers = {"Authorization": f"Bearer {token}"}
        assert one.post("/api/v1/workloads/trainings", json=training(), headers=headers).status_code == 200
        refused = other.post("/api/v1/workloads/trainings", json=training(), headers=headers)
        assert refused.status_code == 401 and "signature" in refused.json()["message"]


def test_a_configured_token_secret_keeps_tokens_valid_across_restarts() -> None:
    first, second = create_app(token_secret="s3cret"), create_app(token_secret="s3cret")
    with client_of(first) as one, client_of(second) as other:
        token = one.post("/api/v1/token", json=TOKEN_BODY).json()["accessToken"]
        answer = other.post(
            "/api/v1/workloads/trainings", json=training(), headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 200


# ------------------------------------------------------------------ exposure
def test_a_non_loopback_host_needs_expose(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse_args(["--host", "0.0.0.0"], environ={})
    assert exit_.value.code == 2
    assert "--expose" in capsys.readouterr().err
    assert parse_args(["--host", "0.0.0.0", "--expose"], environ={}).expose
    assert parse_args(["--host", "::1"], environ={}).host == "::1"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True), ("localhost", True),
     ("0.0.0.0", False), ("::", False), ("10.0.0.5", False), ("example.com", False)],
)  # fmt: skip
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_an_exposed_control_api_answers_only_with_its_token() -> None:
    with client_of(create_app(control_token="ctl-token")) as client:
        refused = client.post("/api/mock/v1/reset")
        assert refused.status_code == 401 and refused.json()["code"] == 401
        wrong = client.get("/api/mock/v1/snapshot", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        # An API token is not the control token.
        token = client.post("/api/v1/token", json=TOKEN_BODY).json()["accessToken"]
        assert (
            client.get("/api/mock/v1/clock", headers={"Authorization": f"Bearer {token}"}).status_code == 401
        )
        assert (
            client.get("/api/mock/v1/clock", headers={"Authorization": "Bearer ctl-token"}).status_code == 200
        )
        assert client.get("/api/mock/v1/openapi.json").status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/api/mock/v1/docs/../reset"), ("GET", "/api/mock/v1/docs/../snapshot"),
     ("POST", "/api/mock/v1/openapi.json/../clock/advance"), ("POST", "/api/mock/v1/./reset"),
     ("GET", "/api/mock/v1/docs/./../events"), ("POST", "/api/mock/v1//reset")],
)  # fmt: skip
def test_dot_segments_do_not_slip_past_the_control_token(method: str, path: str) -> None:
    """Sent as raw paths (HTTP clients would normalise them), straight into the ASGI app."""
    app = create_app(control_token="ctl-token")
    answers: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        answers.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
             "headers": [(b"host", b"x"), (b"content-type", b"application/json")],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 2), "state": {}}  # fmt: skip
    asyncio.run(app(scope, receive, send))
    assert answers[0]["status"] == 401, (path, answers[0]["status"])
    assert app.mock_state.cluster.now() == app.mock_state.cluster.clock.start  # nothing moved


def test_the_exposure_notice_says_what_is_reachable() -> None:
    named = exposure_notice("http://10.0.0.5:8080", "10.0.0.5", "ctl-token", "10.0.0.5, ci-box")
    assert "Host names answered: loopback, 10.0.0.5, ci-box (others are refused" in named
    notice = exposure_notice("http://0.0.0.0:8080", "0.0.0.0", "ctl-token")
    assert "Host names answered: any (bound to every address)" in notice
    assert "EXPOSED" in notice and "Authorization: Bearer ctl-token" in notice
    assert "http://0.0.0.0:8080/api/mock/v1" in notice and "http://0.0.0.0:8080/api/v1" in notice
    assert "http://0.0.0.0:8080/#token=ctl-token" in notice  # the dashboard reads it from there


# ------------------------------------------------------------------ errors and logs
def test_a_nan_fault_is_refused_and_the_api_keeps_working(client: Any) -> None:
    refused = client.put(
        "/api/mock/v1/faults",
        content=b'{"latencySeconds": NaN}',
        headers={"Content-Type": "application/json"},
    )
    assert refused.status_code == 400 and "NaN" in refused.json()["message"]
    assert client.get("/api/mock/v1/faults").json()["latencySeconds"] == 0
    assert client.post("/api/v1/token", json=TOKEN_BODY).status_code == 200


def test_an_unhandled_error_logs_its_traceback(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app()

    def broken() -> None:
        raise RuntimeError("faults exploded")

    monkeypatch.setattr(app.mock_state.faults, "to_api", broken)
    with client_of(app) as client, caplog.at_level(logging.ERROR, logger="mockserver"):
        answer = client.get("/api/mock/v1/faults")
    assert answer.status_code == 500 and answer.json() == {"code": 500, "message": "Something went wrong."}
    logged = "\n".join(r.getMessage() + "\n" + (r.exc_text or "") for r in caplog.records)
    assert "Traceback (most recent call last)" in logged and "RuntimeError: faults exploded" in logged
    assert "NoneType: None" not in logged

"""In-process: CORS preflight, `Prefer: code=NNN`, the request log's line, the Swagger UI servers box."""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from mockserver.app import create_app

CLUSTER_ID = "71f69d83-ba66-4822-adf5-55ce55efd210"
TOKEN_BODY = {"grantType": "app_token", "AppId": "mock-app", "AppSecret": "mock-secret"}


def _client(**options: Any) -> Iterator[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with create_app(**options).test_client() as client:
            yield client


@pytest.fixture
def plain() -> Iterator[Any]:
    yield from _client()


@pytest.fixture
def auth(plain: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {plain.post('/api/v1/token', json=TOKEN_BODY).json()['accessToken']}"}


def _create(client: Any, auth: dict[str, str]) -> str:
    body = {"name": "prefer", "projectId": "1", "clusterId": CLUSTER_ID, "spec": {"image": "busybox"}}
    created = client.post("/api/v1/workloads/trainings", headers=auth, json=body)
    assert created.status_code == 200
    return str(created.json()["workloadId"])


# ------------------------------------------------------------------------------------------- CORS
PREFLIGHT = {
    "Origin": "http://localhost:3000",
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type",
}


def test_cors_preflight_is_answered_for_the_allowed_origin() -> None:
    for client in _client(cors="http://localhost:3000"):
        answer = client.options("/api/v1/workloads/trainings", headers=PREFLIGHT)
        assert answer.status_code == 204
        assert answer.headers["access-control-allow-origin"] == "http://localhost:3000"
        assert "POST" in answer.headers["access-control-allow-methods"]
        assert answer.headers["access-control-allow-headers"] == "authorization, content-type"
        # The answer itself is marked too, and the virtual Date may be read by the page's script.
        token = client.post("/api/v1/token", json=TOKEN_BODY, headers={"Origin": "http://localhost:3000"})
        assert token.headers["access-control-allow-origin"] == "http://localhost:3000"
        assert "Date" in token.headers["access-control-expose-headers"]
        other = client.options(
            "/api/v1/workloads/trainings", headers={**PREFLIGHT, "Origin": "http://evil.test"}
        )
        assert other.status_code == 403
        assert other.json()["code"] == 403 and "--cors http://evil.test" in other.json()["message"]


def test_cors_star_allows_any_origin_and_without_cors_nothing_is_marked(plain: Any) -> None:
    for client in _client(cors="*"):
        answer = client.options(
            "/api/v1/workloads/trainings", headers={**PREFLIGHT, "Origin": "http://anything.test"}
        )
        assert (answer.status_code, answer.headers["access-control-allow-origin"]) == (204, "*")
        # --cors never covers the control API: a page that may call the API still cannot reset the cluster.
        control = client.options(
            "/api/mock/v1/clock", headers={**PREFLIGHT, "Origin": "http://anything.test"}
        )
        assert control.status_code == 403 and "--control-cors" in control.json()["message"]
    for client in _client(control_cors="*"):
        answer = client.options("/api/mock/v1/clock", headers={**PREFLIGHT, "Origin": "http://anything.test"})
        assert (answer.status_code, answer.headers["access-control-allow-origin"]) == (204, "*")
    unmarked = plain.get("/api/mock/v1/clock", headers={"Origin": "http://localhost:3000"})
    assert "access-control-allow-origin" not in unmarked.headers


# ---------------------------------------------------------------------------------------- Prefer
def test_prefer_forces_a_documented_error_answer_with_its_documented_message(
    plain: Any, auth: dict[str, str]
) -> None:
    workload = _create(plain, auth)
    forced = plain.get(f"/api/v1/workloads/trainings/{workload}", headers={**auth, "Prefer": "code=404"})
    assert (forced.status_code, forced.json()) == (404, {"code": 404, "message": "Resource id not found."})
    unavailable = plain.post(
        f"/api/v1/workloads/trainings/{workload}/suspend",
        headers={**auth, "Prefer": "respond-async, code=503"},
    )
    assert unavailable.json() == {"code": 503, "message": "Please try again in few minutes."}
    # Nothing happened to the training: the forced answers did not reach the cluster.
    read = plain.get(f"/api/v1/workloads/trainings/{workload}", headers=auth).json()
    assert read["desiredPhase"] == "Running"


def test_prefer_refuses_an_undocumented_code_naming_the_documented_ones(
    plain: Any, auth: dict[str, str]
) -> None:
    refused = plain.post(
        "/api/v1/workloads/trainings", headers={**auth, "Prefer": "code=500"}, json={"name": "x"}
    )
    assert refused.status_code == 400
    assert refused.json() == {
        "code": 400,
        "message": "Prefer: code=500 is not a documented answer of POST /api/v1/workloads/trainings; "
        "its documented error codes are 400, 401, 403, 503",
    }
    junk = plain.get("/api/mock/v1/clock", headers={"Prefer": "code=teapot"})
    assert junk.status_code == 400 and "code=teapot" in junk.json()["message"]


def test_prefer_with_a_documented_success_code_serves_the_request(plain: Any, auth: dict[str, str]) -> None:
    workload = _create(plain, auth)
    read = plain.get(f"/api/v1/workloads/trainings/{workload}", headers={**auth, "Prefer": "code=200"})
    assert read.status_code == 200 and read.json()["workloadId"] == workload


def test_prefer_follows_the_served_version() -> None:
    # Delete answers 204 in 2.18 and 202 in latest; only latest documents 202.
    for client in _client(api="latest"):
        workload = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
        forced = client.delete(f"/api/v1/workloads/trainings/{workload}", headers={"Prefer": "code=503"})
        assert forced.status_code == 503
        refused = client.delete(f"/api/v1/workloads/trainings/{workload}", headers={"Prefer": "code=204"})
        assert refused.status_code == 400


# ----------------------------------------------------------------------------------- request log
def test_request_log_line_names_workload_and_caller(auth: dict[str, str]) -> None:
    sink = io.StringIO()
    for client in _client(request_log=sink):
        token = client.post("/api/v1/token", json=TOKEN_BODY).json()["accessToken"]
        workload = _create(client, {"Authorization": f"Bearer {token}"})
        client.post(f"/api/mock/v1/trainings/{workload}/outcome", json={"outcome": "Bogus"})
    lines = sink.getvalue().splitlines()
    assert len(lines) == 3
    assert re.fullmatch(
        rf"\d\d:\d\d:\d\d\.\d{{3}} POST +/api/v1/workloads/trainings 200 \d+\.\dms workload={workload} "
        "caller=mock-app",
        lines[1],
    )
    assert f"/api/mock/v1/trainings/{workload}/outcome 400 " in lines[2]
    assert lines[2].endswith(f"workload={workload} caller=-")


# ------------------------------------------------------------------------------------ docs servers
def test_swagger_ui_servers_box_is_not_empty(plain: Any) -> None:
    assert plain.get("/api/v1/openapi.json").json()["servers"] == [
        {"url": "/", "description": "this mock server"}
    ]
    assert plain.get("/api/mock/v1/openapi.json").json()["servers"] == [{"url": "/api/mock/v1"}]


def test_forced_preflight_and_dashboard_answers_carry_the_virtual_date() -> None:
    for client in _client(cors="*"):
        answers = [
            client.get("/api/mock/v1/clock", headers={"Prefer": "code=400"}),
            client.options("/api/v1/token", headers=PREFLIGHT),
            client.get("/"),
        ]
        assert [a.headers.get("date") for a in answers] == ["Wed, 01 Jan 2025 00:00:00 GMT"] * 3

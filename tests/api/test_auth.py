"""Tokens: how they are granted, what the official client needs of them, and 401/403."""

from __future__ import annotations

import base64
import json
import time

import pytest

from mockserver.config import Account
from mockserver.http.auth import ISSUER, TokenService
from tests.conftest import get_token, training


@pytest.mark.parametrize(
    ("body"),
    [
        {"grantType": "app_token", "AppId": "mock-app", "AppSecret": "mock-secret"},
        {"grantType": "app_token", "appID": "mock-app", "appSecret": "mock-secret"},
        {"grantType": "client_credentials", "clientId": "mock-app", "clientSecret": "mock-secret"},
        {"grantType": "client_credentials", "clientID": "mock-app", "CLIENTSECRET": "mock-secret"},
    ],
)
def test_token_keys_match_without_case(client, body):
    response = client.post("/api/v1/token", json=body)
    assert response.status_code == 200, response.text
    assert set(response.json()) >= {"accessToken"}


def test_token_payload_decodes_with_plain_base64_and_has_exp(client):
    token = get_token(client)
    payload = token.split(".")[1]
    assert "-" not in payload and "_" not in payload
    claims = json.loads(base64.b64decode(payload + "=="))  # exactly what the official client does
    assert claims["iss"] == ISSUER
    assert 3500 < claims["exp"] - time.time() <= 3600


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"grantType": "app_token", "AppId": "mock-app"}, "Required parameter is missing"),
        ({"grantType": "app_token", "AppId": "mock-app", "AppSecret": "wrong"}, "Invalid client credentials"),
        ({"grantType": "app_token", "AppId": "nobody", "AppSecret": "x"}, "Invalid client credentials"),
        ({"grantType": "exchange_token", "code": "x"}, "not supported"),
    ],
)
def test_token_refusals_are_400(client, body, message):
    response = client.post("/api/v1/token", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == 400 and message in response.json()["message"]


def test_refresh_token_grant(client):
    token = get_token(client)
    response = client.post("/api/v1/token", json={"grantType": "refresh_token", "refreshToken": token})
    assert response.status_code == 200 and response.json()["accessToken"]


def _forged(claims: dict) -> str:
    def seg(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{seg({'alg': 'HS256'})}.{seg(claims)}.c2ln"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "No authorization token provided"),
        ("Bearer not-a-jwt", "malformed"),
        (f"Bearer {_forged({'iss': 'https://someone-else', 'exp': 9999999999})}", "Issuer is not familiar."),
        (f"Bearer {_forged({'iss': ISSUER, 'exp': 9999999999, 'sub': 'mock-app'})}", "signature"),
    ],
)
def test_bad_tokens_are_401_on_every_operation(client, header, message):
    headers = {"Authorization": header} if header else {}
    workload = "06d16c5d-4728-42fa-b573-3b11820d999f"
    calls = [
        client.post("/api/v1/workloads/trainings", json=training(), headers=headers),
        client.get(f"/api/v1/workloads/trainings/{workload}", headers=headers),
        client.delete(f"/api/v1/workloads/trainings/{workload}", headers=headers),
        client.post(f"/api/v1/workloads/trainings/{workload}/suspend", headers=headers),
        client.post(f"/api/v1/workloads/trainings/{workload}/resume", headers=headers),
    ]
    for response in calls:
        assert response.status_code == 401
        assert response.json()["code"] == 401 and message in response.json()["message"]


def test_expired_token_is_401(client, app):
    tokens: TokenService = app.mock_state.tokens
    old = tokens.issue(tokens.accounts[0], now=time.time() - 7200)
    response = client.get(
        "/api/v1/workloads/trainings/06d16c5d-4728-42fa-b573-3b11820d999f",
        headers={"Authorization": f"Bearer {old}"},
    )
    assert response.status_code == 401 and "expired" in response.json()["message"]


def test_token_from_another_server_run_is_rejected():
    account = Account("mock-app", "mock-secret", "a@example.com", None)
    mine, theirs = TokenService.create([account]), TokenService.create([account])
    with pytest.raises(Exception, match="signature"):
        mine.verify(theirs.issue(account))


def test_project_outside_the_callers_access_is_403(client, api):
    limited = {"Authorization": f"Bearer {get_token(client, 'limited-app', 'limited-secret')}"}
    response = client.post("/api/v1/workloads/trainings", json=training(project="1"), headers=limited)
    assert response.status_code == 403
    assert response.json() == {"code": 403, "message": "You do not have sufficient permissions."}
    assert (
        client.post("/api/v1/workloads/trainings", json=training(project="3"), headers=limited).status_code
        == 200
    )
    others = api.create(training("other")).json()["workloadId"]
    assert client.get(f"/api/v1/workloads/trainings/{others}", headers=limited).status_code == 403
    assert client.post(f"/api/v1/workloads/trainings/{others}/suspend", headers=limited).status_code == 403


def test_grants_within_one_second_are_distinct_tokens():
    """How many distinct tokens a client holds must not depend on how fast it asked for them."""
    account = Account("app", "secret", "app@example.com", ("1",))
    tokens = TokenService.create([account])
    now = float(int(time.time()))
    first, second = tokens.issue(account, now=now), tokens.issue(account, now=now)
    assert first != second
    assert tokens.verify(first).client_id == tokens.verify(second).client_id == "app"


@pytest.mark.parametrize(
    "header", [{}, {"Authorization": "Bearer not.a.token"}, {"Authorization": "Basic eDp5"}]
)
def test_a_stranger_is_401_before_anything_about_the_body(client, header):
    """Without a token the API accepts, a create is refused for that, whatever its body lacks."""
    answer = client.post("/api/v1/workloads/trainings", headers=header, content=b"{}")
    assert answer.status_code == 401 and answer.json()["code"] == 401


def test_a_signed_in_body_without_content_type_is_400(client):
    token = {"Authorization": f"Bearer {get_token(client)}"}
    answer = client.post("/api/v1/workloads/trainings", headers=token, content=b"{}")
    assert answer.status_code == 400 and "Content-Type" in answer.json()["message"]

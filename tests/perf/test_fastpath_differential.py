"""The fast path answers exactly as Connexion's stack: same status, headers and body bytes, request for request.

Two apps with the same seed, clock and token key get the same requests in the same order; one has the
fast path (mockserver/http/fastpath.py), the other has it taken out of its middleware list. Valid requests
(which the fast path must serve itself: it counts them) and every kind of refusal are compared.
"""

from __future__ import annotations

import copy
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from mockserver.app import create_app
from mockserver.http.fastpath import FastPath
from tests.conftest import CLUSTER_ID, corrected_seed_request, training

TRAININGS = "/api/v1/workloads/trainings"
MISSING = "06d16c5d-4728-42fa-b573-3b11820d999f"
SECRET = "differential-test-key"


def _without_fast_path(app: Any) -> Any:
    app.middleware.middlewares = [
        m for m in app.middleware.middlewares if getattr(m, "func", None) is not FastPath
    ]
    return app


def _fast_path_of(app: Any) -> FastPath:
    found = [m for m in app.middleware.middleware_stack if isinstance(m, FastPath)]
    assert len(found) == 1, "the fast path is not in the app's middleware stack"
    return found[0]


class Pair:
    """The same request to both apps; the answers must be identical down to the bytes."""

    def __init__(self, fast: Any, reference: Any) -> None:
        self.fast, self.reference = fast, reference
        self.compared = 0

    def send(self, method: str, path: str, *, exact: bool = True, **options: Any) -> Any:
        """`exact=False`: the bodies may differ (a token names the wall-clock second it was issued in)."""
        fast = self.fast.request(method, path, **options)
        reference = self.reference.request(method, path, **options)
        where = f"{method} {path} {options.get('headers', {})}"
        assert fast.status_code == reference.status_code, (where, fast.text, reference.text)
        if exact:
            assert fast.headers.raw == reference.headers.raw, where
            assert fast.content == reference.content, where
        self.compared += 1
        return fast


@pytest.fixture(scope="module", params=["2.18", "latest"])
def pair(request: pytest.FixtureRequest) -> Iterator[Pair]:
    fast_app = create_app(token_secret=SECRET, api=request.param)
    reference_app = _without_fast_path(create_app(token_secret=SECRET, api=request.param))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with fast_app.test_client() as fast, reference_app.test_client() as reference:
            yield Pair(fast, reference)


def _token(pair: Pair) -> str:
    grant = {"grantType": "app_token", "AppId": "mock-app", "AppSecret": "mock-secret"}
    return str(pair.send("POST", "/api/v1/token", json=grant, exact=False).json()["accessToken"])


def _expired_token(app: Any) -> str:
    tokens = app.mock_state.tokens
    return str(tokens.issue(tokens.accounts[0], now=time.time() - 2 * tokens.lifetime))


def test_valid_requests_are_served_by_the_fast_path_with_the_same_answers(pair: Pair) -> None:
    auth = {"Authorization": f"Bearer {_token(pair)}"}
    served_before = _fast_path_of(pair.fast._transport.app).served
    created = pair.send("POST", TRAININGS, json=training("diff-a"), headers=auth)
    assert created.status_code in (200, 202)
    workload_id = created.json()["workloadId"]
    answers = [
        # The seed's example breaks the latest contract (a secret name): 400 there, from Connexion.
        pair.send("POST", TRAININGS, json=corrected_seed_request(), headers=auth),
        pair.send("POST", f"{TRAININGS}?dryRun=1", json=training("diff-b"), headers=auth),
    ]
    for _ in range(2):  # the second time from the token cache
        answers.append(pair.send("GET", f"{TRAININGS}/{workload_id}", headers=auth))
        answers.append(pair.send("GET", f"/api/v1/workloads/{workload_id}", headers=auth))
    pair.send("POST", "/api/mock/v1/clock/advance", json={"seconds": 30})
    lower_bearer = {"Authorization": f"bearer  {auth['Authorization'][7:]}"}
    answers += [
        pair.send("GET", f"{TRAININGS}/{workload_id}?verbose=true", headers=auth),
        pair.send(
            "GET", f"{TRAININGS}/{workload_id.upper()}", headers=auth
        ),  # a valid uuid, no such training
        pair.send("GET", f"{TRAININGS}/{workload_id}", headers=lower_bearer),
    ]
    accepted = 1 + sum(1 for answer in answers if answer.status_code < 300)
    assert accepted >= 8
    served = _fast_path_of(pair.fast._transport.app).served - served_before
    assert served == accepted, f"the fast path served {served} of the {accepted} accepted requests"
    # A forced answer (Prefer: code=…) comes from the middleware outside, on both paths alike.
    pair.send("GET", f"{TRAININGS}/{workload_id}", headers={**auth, "Prefer": "code=500"})
    pair.send("GET", f"{TRAININGS}/{workload_id}", headers={**auth, "Prefer": "code=404"})


def test_refusals_are_the_same(pair: Pair) -> None:
    token = _token(pair)
    auth = {"Authorization": f"Bearer {token}"}
    workload_id = pair.send("POST", TRAININGS, json=training("diff-r"), headers=auth).json()["workloadId"]
    expired = _expired_token(pair.fast._transport.app)
    for path in (f"{TRAININGS}/{workload_id}", f"/api/v1/workloads/{workload_id}"):
        for headers in (
            {},
            {"Authorization": ""},
            {"Authorization": "Bearer"},
            {"Authorization": f"Basic {token}"},
            {"Authorization": "Bearer not.a.jwt"},
            {"Authorization": f"Bearer {token}x"},
            {"Authorization": f"Bearer {expired}"},
        ):
            pair.send("GET", path, headers=headers)
    for path in (
        f"{TRAININGS}/{MISSING}",
        f"{TRAININGS}/not-a-uuid",
        f"{TRAININGS}/{workload_id}/",
        f"{TRAININGS}/{workload_id}%2Fx",
        f"{TRAININGS}/events",
        f"/api/v1/workloads/{MISSING}",
        "/api/v1/workloads/count",
        "/api/v1/workloads/trainings",
        f"/api/v1/workloads/{workload_id}/events",
    ):
        pair.send("GET", path, headers=auth)
    pair.send("DELETE", f"{TRAININGS}/{workload_id}", headers=auth)
    pair.send("GET", f"{TRAININGS}/{workload_id}", headers=auth)


def test_bad_bodies_are_refused_the_same(pair: Pair) -> None:
    auth = {"Authorization": f"Bearer {_token(pair)}"}
    as_json = {**auth, "Content-Type": "application/json"}
    invalid = training("diff-bad")
    invalid["clusterId"] = "not-a-uuid"
    invalid["spec"]["completions"] = 2**31
    not_allowed = training("diff-foreign", project="no-such-project")
    seeded = corrected_seed_request()
    seeded["name"] = "diff-seed"
    duplicate = copy.deepcopy(seeded)
    options: dict[str, Any]
    for options in (
        {"json": invalid},
        {"json": not_allowed},
        {"json": {**training("diff-x"), "clusterId": CLUSTER_ID.upper()}},
        {"json": seeded},
        {"json": duplicate},  # the same name again
        {"json": []},
        {"json": None},
        {"content": b"null", "headers": as_json},
        {"content": b"", "headers": as_json},
        {"content": b'{"name": ', "headers": as_json},
        {"content": b"\xb1I\xc4\xa4", "headers": as_json},
        {"content": b"\xef\xbb\xbf{}", "headers": as_json},
        {"content": b"[" * 100 + b"]" * 100, "headers": as_json},
        {"content": b'{"name": 1e400}', "headers": as_json},
        {"content": b'{"name": NaN}', "headers": as_json},
        {"content": b"name=x", "headers": {**auth, "Content-Type": "text/plain"}},
        {"content": b"{}", "headers": {**auth, "Content-Type": "application/json; charset=utf-8"}},
        {"content": b"{}", "headers": {**auth, "Content-Type": "application/merge-patch+json"}},
        {"content": b"{}", "headers": auth},
        {"json": training("diff-noauth")},
    ):
        headers = options.pop("headers", auth)
        pair.send("POST", TRAININGS, headers=headers, **options)
    for bad in ({"grantType": "nope"}, {}):
        pair.send("POST", "/api/v1/token", json=bad)


def test_faults_and_latency_apply_to_the_fast_path_too(pair: Pair) -> None:
    auth = {"Authorization": f"Bearer {_token(pair)}"}
    workload_id = pair.send("POST", TRAININGS, json=training("diff-f"), headers=auth).json()["workloadId"]
    compared = pair.compared
    pair.send("PUT", "/api/mock/v1/faults", json={"errorRate": 0.5, "errorStatus": 503})
    for _ in range(8):  # the same seeded draws on both sides
        pair.send("GET", f"{TRAININGS}/{workload_id}", headers=auth)
        pair.send("POST", TRAININGS, json=training(f"diff-f{_}"), headers=auth)
    assert pair.compared == compared + 17
    pair.send("POST", "/api/mock/v1/reset", headers={"X-Mock-Control": "1"})


def _near_the_schema() -> list[Any]:
    """Create bodies on both sides of the schema's line: the fast path's compiled check must take the
    valid ones itself and hand every other one to Connexion untouched."""
    bodies: list[Any] = []
    for n, spec in enumerate(
        [
            {"image": "pythön:3.11 ✓"},  # non-ASCII text, echoed back with ASCII escapes
            {"parallelism": None, "completions": None, "nodePools": None, "command": None},  # nullable
            {"parallelism": 2**31 - 1},  # int32's top: valid for the schema, over the domain's bound
            {"parallelism": 2**31},  # over int32
            {"parallelism": 1.0},  # a number where Draft 4 wants an integer
            {"parallelism": True},
            {"parallelism": "2"},
            {"backoffLimit": -1},
            {"autoDeletionTimeAfterCompletionSeconds": 2**63},  # over int64
            {"priorityClass": None},
            {"nodePools": ["a", 1]},
            {"nodePools": "a"},
            {"annotations": [{"name": "a", "value": "b"}, {"name": 1}]},
            {"compute": {"gpuDevicesRequest": 1, "gpuPortionRequest": -0.0, "gpuRequestType": "portion"}},
            {"compute": {"gpuDevicesRequest": None, "cpuCoreRequest": 1e300}},
            {"compute": {"gpuRequestType": "Portion"}},
            {"compute": []},
            {"compute": None},
            {"unknownField": {"deep": [[[[[[[[{"x": 1e308}]]]]]]]]}},  # extra fields: not checked
            {"image": ""},  # minLength
            {"image": None},
        ]
    ):
        body = training(f"near-{n}")
        body["spec"].update(spec)
        bodies.append(body)
    base = training("near-top")
    for key, value in (
        ("clusterId", "71F69D83-BA66-4822-ADF5-55CE55EFD210"),
        ("clusterId", CLUSTER_ID + "\n"),
        ("clusterId", None),
        ("name", "near-ünï"),
        ("name", None),
        ("projectId", 1),
        ("useGivenNameAsPrefix", 1),
        ("spec", None),
        ("spec", []),
        ("extra", None),
    ):
        bodies.append({**base, key: value})
    return bodies


def test_bodies_near_the_schema_are_answered_the_same(pair: Pair) -> None:
    auth = {"Authorization": f"Bearer {_token(pair)}"}
    fast_path = _fast_path_of(pair.fast._transport.app)
    served_before, refused_before = fast_path.served, fast_path.refused
    answers = [pair.send("POST", TRAININGS, json=body, headers=auth) for body in _near_the_schema()]
    statuses = [answer.status_code for answer in answers]
    # Every one of these is JSON with its length: a body its schema refuses is refused by the fast path,
    # with the refusal Connexion's request validation makes (the same bytes, compared in `send`).
    invalid = [
        a
        for a in answers
        if a.status_code == 400 and a.json()["message"].startswith("Request body is invalid")
    ]
    assert len(invalid) >= 10 and fast_path.refused - refused_before == len(invalid)
    as_json = {**auth, "Content-Type": "application/json"}
    for content in (
        b'{"name": "near-n", "projectId": "1", "clusterId": "%s", "spec": {"image": "x", "parallelism": 1%s}}'
        % (CLUSTER_ID.encode(), b"0" * 41),  # a 42-digit number
        b'{"name": "near-s", "projectId": "1", "clusterId": "%s", "spec": {"image": "%s"}}'
        % (CLUSTER_ID.encode(), b"1" * 60),  # a long digit run inside a string only
        b'{"name": "near-d", "projectId": "1", "clusterId": "%s", "spec": {"image": "x"}, "z": %s%s}'
        % (CLUSTER_ID.encode(), b"[" * 70, b"]" * 70),  # deeper than allowed
        b'{"name": "near-b", "projectId": "1", "clusterId": "%s", "spec": {"image": "[[[{{{"}}'
        % CLUSTER_ID.encode(),  # brackets inside a string only
        b'{"name": "near-e", "projectId": "1", "clusterId": "%s", "spec": {"image": "\\u00e9\\ud83d\\ude00"}}'
        % CLUSTER_ID.encode(),
        b'{"name": "near-i", "projectId": "1", "clusterId": "%s", "spec": {"image": "x", "parallelism": -Infinity}}'
        % CLUSTER_ID.encode(),
    ):
        statuses.append(pair.send("POST", TRAININGS, content=content, headers=as_json).status_code)
    accepted = sum(1 for status in statuses if status < 300)
    assert 5 <= accepted < len(statuses) - 10, statuses
    served = _fast_path_of(pair.fast._transport.app).served - served_before
    assert served == accepted, f"the fast path served {served} of the {accepted} accepted creates"


def test_a_bad_body_without_its_length_is_left_to_connexion(pair: Pair) -> None:
    """Connexion reads a body sent without Content-Length (chunked) as no body at all: the fast path, which
    would refuse the body it reads, leaves such a request to it."""
    auth = {"Authorization": f"Bearer {_token(pair)}", "Content-Type": "application/json"}
    fast_path = _fast_path_of(pair.fast._transport.app)
    refused = fast_path.refused
    bad = b'{"name": 1, "projectId": "1", "spec": {"image": "x"}}'
    answers = [
        client.post(TRAININGS, content=iter([bad]), headers=auth) for client in (pair.fast, pair.reference)
    ]
    assert answers[0].status_code == answers[1].status_code and answers[0].content == answers[1].content
    assert fast_path.refused == refused
    sized = pair.send("POST", TRAININGS, content=bad, headers=auth)
    assert sized.status_code == 400 and fast_path.refused == refused + 1

"""Single-answer rules: error bodies, 202 bodies, names, createdAt, the echoed spec."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from contracts.oracle.rules import (
    accepted_body_problems,
    created_at_problems,
    documented_part,
    error_body_problems,
    name_problems,
    spec_differences,
)

JSON = "application/json"


def test_a_good_error_body() -> None:
    assert error_body_problems(404, {"code": 404, "message": "Resource id not found."}, JSON) == []
    issues = {"code": 400, "message": "no", "complianceIssues": [{"field": "name", "details": "taken"}]}
    assert error_body_problems(400, issues, "application/json; charset=utf-8") == []


@pytest.mark.parametrize(
    ("status", "body", "content_type", "fragment"),
    [
        (401, {"code": 400, "message": "x"}, JSON, "differs from the HTTP status"),
        (
            400,
            {"type": "about:blank", "title": "Bad", "status": 400},
            "application/problem+json",
            "problem+json",
        ),
        (400, {"type": "about:blank", "status": 400}, JSON, "lacks code/message"),
        (500, "Internal Server Error", "text/plain", "not a JSON object"),
        (400, {"code": "400", "message": "x"}, JSON, "not an integer"),
        (400, {"code": 400, "message": "x", "complianceIssues": [{"field": 1}]}, JSON, "complianceIssues"),
    ],
)
def test_bad_error_bodies(status: int, body: object, content_type: str, fragment: str) -> None:
    assert any(fragment in problem for problem in error_body_problems(status, body, content_type))


def test_accepted_body() -> None:
    assert accepted_body_problems(202, {"code": 202, "message": "Request has been accepted."}) == []
    assert accepted_body_problems(202, {"code": 200, "message": "OK"})
    assert accepted_body_problems(202, None)


def training(name: str, requested: str) -> dict[str, str]:
    return {"name": name, "requestedName": requested}


@pytest.mark.parametrize(
    ("sent", "as_prefix", "name", "requested"),
    [
        ("train-a", False, "train-a", "train-a"),
        ("train-a", True, "train-a-x7k2q", "train-a"),
        ("a" * 63, True, "a" * 57 + "-0abcd", "a" * 63),  # a long prefix is cut to fit, like generateName
        (None, None, "train-a-x7k2q", "train-a"),  # a read: either form
        (None, None, "train-a", "train-a"),
    ],
)
def test_good_names(sent: str | None, as_prefix: bool | None, name: str, requested: str) -> None:
    assert name_problems(sent, as_prefix, training(name, requested)) == []


@pytest.mark.parametrize(
    ("sent", "as_prefix", "name", "requested", "fragment"),
    [
        ("train-a", True, "train-a_X7K2Q", "train-a", "random"),
        ("train-a", True, "train-b-x7k2q", "train-a", "does not start"),
        ("train-a", False, "train-a-x7k2q", "train-a", "without useGivenNameAsPrefix"),
        ("train-a", False, "train-b", "train-b", "differs from the name that was sent"),
        ("Train", False, "Train", "Train", "DNS label"),
        ("a" * 64, False, "a" * 64, "a" * 64, "64 characters"),
        (None, None, "other", "train-a", "neither"),
    ],
)
def test_bad_names(
    sent: str | None, as_prefix: bool | None, name: str, requested: str, fragment: str
) -> None:
    assert any(fragment in problem for problem in name_problems(sent, as_prefix, training(name, requested)))


NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "value", ["2022-01-01T03:49:52.531Z", "2025-06-01T00:04:00+00:00", "2025-01-01T00:00:00Z"]
)
def test_good_created_at(value: str) -> None:
    assert created_at_problems(value, NOW) == []


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("01/01/2025 00:00:00", "RFC 3339"), ("2099-01-01T00:00:00.000Z", "future"), (None, "RFC 3339")],
)
def test_bad_created_at(value: object, fragment: str) -> None:
    assert any(fragment in problem for problem in created_at_problems(value, NOW))


def test_spec_echo_allows_server_defaults_but_not_changes() -> None:
    sent = {"image": "busybox", "command": None, "annotations": [{"name": "a", "value": "1"}]}
    echoed = {
        "image": "busybox",
        "annotations": [{"name": "a", "value": "1", "exclude": False}],
        "backoffLimit": 6,
    }
    assert spec_differences(sent, echoed) == []
    assert spec_differences(sent, {**echoed, "image": "python"}) == [
        "spec.image was sent as 'busybox', came back as 'python'"
    ]
    assert spec_differences({"tty": True}, {"tty": 1})
    assert spec_differences({"nodePools": ["a", "b"]}, {"nodePools": ["a"]})


def test_only_the_documented_part_of_a_spec_must_come_back() -> None:
    # A backend may drop keys its contract does not know (Run:ai's does): only what the schema names is
    # held to coming back, at every depth; a schema naming no properties keeps its value whole.
    document = {
        "components": {
            "schemas": {
                "Spec": {"allOf": [{"$ref": "#/components/schemas/Base"}, {"properties": {"args": {}}}]},
                "Base": {
                    "properties": {
                        "image": {"type": "string"},
                        "env": {"type": "array", "items": {"properties": {"name": {}, "value": {}}}},
                        "labels": {"type": "object"},
                    }
                },
            }
        }
    }
    sent = {
        "image": "busybox",
        "args": "3",
        "unknown": [1],
        "env": [{"name": "A", "value": "1", "extra": True}],
        "labels": {"free": "form"},
    }
    kept = documented_part(sent, {"$ref": "#/components/schemas/Spec"}, document)
    assert kept == {
        "image": "busybox",
        "args": "3",
        "env": [{"name": "A", "value": "1"}],
        "labels": {"free": "form"},
    }
    # What the contract documents is still held to coming back unchanged.
    assert spec_differences(kept, {"image": "other", "args": "3", "env": [{"name": "A", "value": "1"}]}) != []

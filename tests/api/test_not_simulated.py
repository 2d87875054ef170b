"""Every path of each version's official Run:ai document, walked: what the fake serves answers as served
(never 501, never a 405 that blames the method), and what it does not serve answers 501 with `{code,
message}` naming the path as not simulated — never a uuid error or a 405."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from mockserver.app import create_app
from mockserver.config import load_config
from mockserver.http.not_simulated import Unserved
from mockserver.http.routes import METHODS
from mockserver.specs import LATEST_OFFICIAL, OFFICIAL_VERSIONS, load_spec, read_official_document
from mockserver.versions import VERSIONS
from tests.conftest import get_token

# A value for every path parameter that no literal segment equals and no object has.
ABSENT = "3f1f0f7e-1111-4222-8333-444455556666"
_PARAMETER = re.compile(r"\{[^}/]+\}")


def _official(version: str) -> dict[str, Any]:
    name = version if version in OFFICIAL_VERSIONS else LATEST_OFFICIAL
    document: dict[str, Any] = json.loads(read_official_document(name))
    return document


@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_every_official_path_is_served_or_said_to_be_not_simulated(version: str) -> None:
    served_paths = load_spec(VERSIONS[version].spec)["paths"]
    served = {(m.upper(), p) for p, item in served_paths.items() for m in METHODS if m in item}
    seen_501 = seen_served = 0
    with create_app(load_config(), api=version).test_client() as client:
        headers = {"Authorization": f"Bearer {get_token(client)}"}
        for path, item in _official(version)["paths"].items():
            for method in (m.upper() for m in METHODS if m in item):
                url = _PARAMETER.sub(ABSENT, path)
                body = {} if method in ("POST", "PUT", "PATCH") else None
                answer = client.request(method, url, headers=headers, json=body)
                where = f"{version} {method} {path}: {answer.status_code} {answer.text[:200]}"
                if (method, path) in served:
                    seen_served += 1
                    assert answer.status_code not in (405, 501), where
                    assert "not a 'uuid'" not in answer.text, where
                else:
                    seen_501 += 1
                    assert answer.status_code == 501, where
                    error = answer.json()
                    assert error["code"] == 501, where
                    assert "not simulated by this fake" in error["message"] and path in error["message"], (
                        where
                    )
    assert seen_served >= 20 and seen_501 > 100  # the walk saw both sides


def test_unserved_paths_that_routing_used_to_misread() -> None:
    with create_app(load_config(), api="latest").test_client() as client:
        headers = {"Authorization": f"Bearer {get_token(client)}"}
        telemetry = client.get("/api/v1/workloads/telemetry", headers=headers, params={"telemetryType": "x"})
        assert telemetry.status_code == 501 and "'uuid'" not in telemetry.text
        # POST to an unserved collection: not a 405 that tells the client to use GET.
        created = client.post("/api/v1/org-unit/projects", headers=headers, json={"name": "x"})
        assert created.status_code == 501 and "POST /api/v1/org-unit/projects " in created.json()["message"]
        # A method the official document lacks too stays routing's 405; a path it lacks, routing's 404.
        assert client.put("/api/v1/workloads/trainings", headers=headers, json={}).status_code == 405
        assert client.get("/api/v1/no-such-thing", headers=headers).status_code == 404


def test_the_most_specific_official_template_decides() -> None:
    unserved = Unserved(
        {"/w/{id}": ["GET"], "/w/pods": ["GET"], "/w/{id}/pods": ["GET"], "/w": ["GET", "POST"]},
        {"/w/{id}": ["GET"], "/w": ["GET"]},
    )
    assert unserved.refused("GET", "/w/123") is None
    assert unserved.refused("GET", "/w/pods") is not None  # literal beats the served template
    assert unserved.refused("GET", "/w/123/pods") is not None
    assert unserved.refused("POST", "/w") is not None  # official method the fake does not serve
    assert unserved.refused("DELETE", "/w") is None  # routing's 405: Run:ai has no DELETE there either
    assert unserved.refused("GET", "/elsewhere") is None


def test_a_path_of_other_versions_names_the_versions_that_have_it() -> None:
    """2.18 has no batch endpoint: its path used to match `/workloads/{workloadId}` and come back 405
    "use GET"; now it is a 404 that names the versions serving it."""
    with create_app(load_config(), api="2.18").test_client() as client:
        headers = {"Authorization": f"Bearer {get_token(client)}"}
        batch = client.post("/api/v1/workloads/batch", headers=headers, json={"action": "delete", "ids": []})
        assert batch.status_code == 404, batch.text
        text = batch.json()["message"]
        assert "not in Run:ai API 2.18" in text and "2.19" in text and "use GET" not in text
        counted = client.get("/api/v1/org-unit/projects/count", headers=headers)
        assert counted.status_code == 404 and "2.18" in counted.json()["message"]
        # Served paths are untouched, and a method no version has stays routing's 405.
        assert client.get("/api/v1/workloads", headers=headers).status_code == 200
        assert client.put("/api/v1/workloads/trainings", headers=headers, json={}).status_code == 405


def test_the_other_versions_tree_is_consulted_only_for_other_templates() -> None:
    unserved = Unserved(
        {"/w/{id}": ["GET"]},
        {"/w/{id}": ["GET"]},
        "2.18",
        {"/w/batch": {"POST": ("2.19", "2.20")}, "/w/{id}": {"PATCH": ("2.19",)}},
    )
    assert unserved.refused("GET", "/w/123") is None
    refused = unserved.refused("POST", "/w/batch")
    assert refused is not None and refused[0] == 404 and "2.19, 2.20" in refused[1]
    assert unserved.refused("PATCH", "/w/123") is None  # the same template: routing's 405 for this version

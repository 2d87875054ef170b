"""Connexion's document check runs once per distinct valid document, and never at start for the documents
the package ships (checked when spec/index.json was written); an invalid one is refused every time.
A document is built into a `Specification` once per process; the later builds share what it made."""

from __future__ import annotations

import copy
from typing import Any

import connexion.spec
import pytest
from connexion.exceptions import InvalidSpecification
from connexion.spec import Specification

from mockserver.app import create_app
from mockserver.http import spec_once
from mockserver.http.spec_once import (
    checked_fingerprints,
    fingerprint,
    remember_built_documents,
    remembered,
    validate_each_document_once,
)
from mockserver.specs import load_spec, served_document
from tests.conftest import get_token, training

# Connexion's own construction, before any test wraps it with the memory of documents built.
original_build = Specification.__init__

MINIMAL: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "t", "version": "1"},
    "paths": {"/x": {"get": {"responses": {"200": {"description": "ok"}}}}},
}


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The documents Connexion's check runs on from now on."""
    seen: list[object] = []
    create = connexion.spec.create_spec_validator

    def counting(spec: dict[str, Any]) -> Any:
        seen.append(spec)
        return create(spec)

    monkeypatch.setattr(connexion.spec, "create_spec_validator", counting)
    return seen


def test_a_valid_document_is_checked_once(checks: list[object]) -> None:
    validate_each_document_once()
    document = copy.deepcopy(MINIMAL)
    document["info"]["title"] = "counted"  # a document no other test has shown it
    first = Specification.load(copy.deepcopy(document))
    assert len(checks) == 1
    second = Specification.load(copy.deepcopy(document)).with_base_path("/other")  # Connexion's copy
    assert first["paths"] == second["paths"]
    assert len(checks) == 1
    document["info"]["title"] = "another"
    Specification.load(document)
    assert len(checks) == 2


def test_an_invalid_document_is_refused_every_time() -> None:
    validate_each_document_once()
    broken = copy.deepcopy(MINIMAL)
    broken["paths"]["/x"]["get"]["responses"]["200"] = {"no": "description"}
    for _ in range(2):
        with pytest.raises(InvalidSpecification):
            Specification.load(copy.deepcopy(broken))


def test_a_packaged_document_is_not_checked_at_start_but_an_edited_copy_is(
    monkeypatch: pytest.MonkeyPatch, checks: list[object]
) -> None:
    """The fingerprints in spec/index.json stand for Connexion's check of exactly that content: a served
    contract with one field changed is checked again, and refused when the change makes it invalid."""
    validate_each_document_once(checked_fingerprints())
    monkeypatch.setattr(
        spec_once, "_VALID", {key for key in spec_once._VALID if key[1] in checked_fingerprints()}
    )
    shipped = served_document("trainings-2.21.yaml", "2.21")
    assert fingerprint(shipped) in checked_fingerprints()
    Specification.load(copy.deepcopy(shipped))
    assert checks == []
    edited = copy.deepcopy(shipped)
    edited["info"]["title"] = "edited by hand"
    Specification.load(copy.deepcopy(edited))
    assert len(checks) == 1
    edited["paths"]["/api/v1/workloads/count"]["get"]["responses"] = {"200": {"no": "description"}}
    with pytest.raises(InvalidSpecification):
        Specification.load(edited)


def test_our_contracts_still_load() -> None:
    validate_each_document_once()
    validate_each_document_once()  # idempotent: one wrapper, not two
    assert Specification.load(load_spec())["info"]["version"] == "2.18"


def test_a_document_built_again_is_the_first_build_and_its_own_top_level() -> None:
    remember_built_documents()
    document = copy.deepcopy(MINIMAL)
    document["info"]["title"] = "remembered"
    first = Specification.load(copy.deepcopy(document))
    again = Specification.load(copy.deepcopy(document))
    assert again.spec == first.spec and again.raw == first.raw
    moved = again.with_base_path("/moved")  # Connexion writes the base path into the top level
    assert moved.base_path == "/moved" and first.base_path == again.base_path == ""
    assert Specification.load(copy.deepcopy(document)).base_path == ""


@pytest.mark.parametrize("api", ["2.18", "latest"])
def test_apps_built_and_served_leave_the_remembered_documents_as_built(api: str) -> None:
    """The remembered documents' nested parts are shared by every app a process builds: serving must
    not change them. Two apps answer the documents, Swagger UI, a create, reads, lists and refusals;
    then every remembered document is compared with a fresh build of its content."""
    for _ in range(2):
        app = create_app(api=api)
        with app.test_client() as client:
            headers = {"Authorization": f"Bearer {get_token(client)}"}
            for path in ("/api/v1/openapi.json", "/api/mock/v1/openapi.json", "/api/v1/docs/"):
                assert client.get(path).status_code == 200
            created = client.post("/api/v1/workloads/trainings", json=training("kept"), headers=headers)
            assert created.status_code in (200, 202)
            workload = created.json()["workloadId"]
            client.get(f"/api/v1/workloads/trainings/{workload}", headers=headers)
            client.get("/api/v1/workloads?limit=1&filterBy=phase==Running", headers=headers)
            client.post("/api/v1/workloads/trainings", json={"name": 1}, headers=headers)
            client.get("/api/v1/org-unit/projects", headers=headers)
    built = remembered()
    assert built
    for cls, raw, resolved in built:
        fresh = Specification.__new__(cls)
        original_build(fresh, copy.deepcopy(raw))
        assert fresh.raw == raw and fresh.spec == resolved

"""Connexion's document check runs once per distinct valid document; an invalid one is refused every time."""

from __future__ import annotations

import copy
from typing import Any

import connexion.spec
import pytest
from connexion.exceptions import InvalidSpecification
from connexion.spec import Specification

from mockserver.http.spec_once import validate_each_document_once
from mockserver.specs import load_spec

MINIMAL: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "t", "version": "1"},
    "paths": {"/x": {"get": {"responses": {"200": {"description": "ok"}}}}},
}


def test_a_valid_document_is_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    validate_each_document_once()
    checks: list[object] = []
    create = connexion.spec.create_spec_validator

    def counting(spec: dict[str, Any]) -> Any:
        checks.append(spec)
        return create(spec)

    monkeypatch.setattr(connexion.spec, "create_spec_validator", counting)
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


def test_our_contracts_still_load() -> None:
    validate_each_document_once()
    validate_each_document_once()  # idempotent: one wrapper, not two
    assert Specification.load(load_spec())["info"]["version"] == "2.18"

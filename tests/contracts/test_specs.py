"""Loading the contract: ours as is, the official documents cut down and fixed up, with every fix-up told."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contracts.specs import TRAININGS_OPERATIONS, ContractError, load_contract, prepare
from tests.contracts.conftest import OFFICIAL_218, OFFICIAL_LATEST, needs_official


def test_our_contract_needs_no_fixups_beyond_nullable_enums() -> None:
    """Beyond the trainings operations, our document also describes the look-ups the fake serves."""
    contract = load_contract()
    assert set(contract.operations) == set(TRAININGS_OPERATIONS)
    assert contract.operation("delete_training").success_status == 204
    assert not contract.operation("grant_token").secured
    assert all(op.secured for op in contract.operations.values() if op.operation_id != "grant_token")
    assert all(
        "nullable enum" in fixup or "were left out" in fixup or "removed with them" in fixup
        for fixup in contract.fixups
    )


@needs_official
def test_official_218_is_cut_down_and_fixed_up() -> None:
    contract = load_contract(str(OFFICIAL_218))
    assert contract.version == "2.18"
    assert len(contract.document["paths"]) == 5
    assert contract.operation("create_training1").success_status == 200
    joined = " ".join(contract.fixups)
    for expected in ("info.version", "left out", "grant_token", "type: object", "nullable enum"):
        assert expected in joined
    assert not contract.operation("grant_token").secured


@needs_official
def test_official_latest_has_the_202_answers() -> None:
    contract = load_contract(str(OFFICIAL_LATEST))
    assert contract.operation("create_training1").success_status == 202
    assert contract.operation("delete_training").success_status == 202


def test_the_source_document_is_not_modified() -> None:
    document = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": 1},
        "paths": {"/x": {"get": {"operationId": "other", "responses": {"200": {"description": "ok"}}}}},
    }
    before = json.dumps(document, sort_keys=True)
    with pytest.raises(ContractError, match="lacks the trainings operation"):
        prepare(document, "inline")
    assert json.dumps(document, sort_keys=True) == before


@pytest.mark.parametrize(
    ("text", "message"),
    [("{not json", "neither JSON nor YAML"), ('{"swagger": "2.0"}', "not an OpenAPI 3 document")],
)
def test_unusable_documents_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "spec.json"
    path.write_text(text)
    with pytest.raises(ContractError, match=message):
        load_contract(str(path))


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="cannot be read"):
        load_contract(str(tmp_path / "absent.yaml"))

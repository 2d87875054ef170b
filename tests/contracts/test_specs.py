"""Loading the contract: ours as is, the official documents cut down and fixed up, with every fix-up told."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contracts.run.fuzz import acceptable_answers
from contracts.specs import (
    FUZZED_OPERATIONS,
    TRAININGS_OPERATIONS,
    ContractError,
    load_contract,
    prepare,
)
from tests.contracts.conftest import OFFICIAL_218, OFFICIAL_LATEST

NOT_IN_218 = {
    "get_nodepools",
    "count_projects",
    "count_departments",
    "suspend_distributed",
    "resume_distributed",
    "update_inference_spec",
}


def test_every_kind_the_latest_document_declares_is_fuzzed() -> None:
    """Document-driven: the latest contract (ours and the official one alike) keeps every kind's
    operations, suspend/resume of distributed trainings and the inference PATCH included."""
    for contract in (load_contract(api="latest"), load_contract(str(OFFICIAL_LATEST))):
        assert set(contract.operations) == set(FUZZED_OPERATIONS) - {"getNodePools"}
        assert {"create_workspace1", "create_distributed", "create_inference1"} <= set(contract.operations)


def test_our_contract_needs_no_fixups_beyond_the_official_schemas() -> None:
    """Beyond the trainings operations, our document also describes the look-ups the fake serves. Their
    schemas follow the official ones field for field (tests/api/test_contract_document.py), type-less
    objects and the uuid format of a department's parent and child links included, so the fix-ups those
    need apply to ours too; nothing else does."""
    contract = load_contract()
    # The 2.18 contract names its node-pool list getNodePools; get_nodepools is the latest one's. 2.18
    # has every kind, but not yet the org-unit counts, distributed suspend/resume or inference PATCH.
    assert set(contract.operations) == set(FUZZED_OPERATIONS) - NOT_IN_218
    assert contract.operation("delete_training").success_status == 204
    assert not contract.operation("grant_token").secured
    assert all(op.secured for op in contract.operations.values() if op.operation_id != "grant_token")
    expected = ("nullable enum", "were left out", "removed with them", "typed as objects", "department id")
    assert all(any(words in fixup for words in expected) for fixup in contract.fixups), contract.fixups


def test_official_218_is_cut_down_and_fixed_up() -> None:
    contract = load_contract(str(OFFICIAL_218))
    assert contract.version == "2.18"
    assert set(contract.operations) == set(FUZZED_OPERATIONS) - NOT_IN_218
    assert contract.operation("create_training1").success_status == 200
    joined = " ".join(contract.fixups)
    for expected in ("info.version", "left out", "grant_token", "type: object", "nullable enum", "no 400"):
        assert expected in joined
    # The workloads list documents no 400; a malformed query's answer is the document's own 400.
    assert contract.operation("get_workloads").statuses == (200, 400, 401, 403, 500, 503)
    department = contract.document["components"]["schemas"]["DepartmentSlim"]["allOf"][1]["properties"]["id"]
    assert department == {"type": "string", "example": "9f55253e-11ed-47c7-acef-fc4054768dbc"}
    assert not contract.operation("grant_token").secured


def test_official_latest_has_the_202_answers() -> None:
    contract = load_contract(str(OFFICIAL_LATEST))
    assert contract.operation("create_training1").success_status == 202
    assert contract.operation("delete_training").success_status == 202
    # The /v1/k8s node-pool list is deprecated there in favour of /api/v1/node-pools.
    assert "get_nodepools" in contract.operations and "getNodePools" not in contract.operations
    assert any("deprecated look-ups among them: getNodePools" in fixup for fixup in contract.fixups)


def _document(operations: dict[str, dict]) -> dict:
    """A minimal document with the trainings operations and the given extra `GET /<operationId>`s."""
    ok = {"200": {"description": "ok"}, "400": {"$ref": "#/components/responses/Bad"}}
    paths = {f"/{op_id}": {"get": {"operationId": op_id, "responses": ok}} for op_id in TRAININGS_OPERATIONS}
    paths.update({f"/{op_id}": {"get": {"operationId": op_id, **spec}} for op_id, spec in operations.items()})
    return {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": paths,
        "components": {
            "responses": {"Bad": {"description": "bad"}},
            "parameters": {"Limit": {"name": "limit", "in": "query", "schema": {"type": "integer"}}},
        },
    }


def _answers() -> dict:
    return {"responses": {"200": {"description": "ok"}}}


def test_a_queried_lookup_without_400_gets_the_documents_own() -> None:
    contract = prepare(
        _document(
            {
                "get_workloads": {"parameters": [{"$ref": "#/components/parameters/Limit"}], **_answers()},
                "get_workload": {"parameters": [{"name": "workloadId", "in": "path"}], **_answers()},
                "get_clusters": {
                    "parameters": [{"name": "verbosity", "in": "query"}],
                    "responses": {"200": {"description": "ok"}, "default": {"description": "any"}},
                },
            }
        ),
        "inline",
    )
    assert contract.operation("get_workloads").statuses == (200, 400)
    assert contract.document["paths"]["/get_workloads"]["get"]["responses"]["400"] == {
        "$ref": "#/components/responses/Bad"
    }
    # No query parameter, or a `default` answer that already covers it: nothing added.
    assert contract.operation("get_workload").statuses == (200,)
    assert contract.operation("get_clusters").statuses == (200,)
    assert any("(get_workloads)" in fixup for fixup in contract.fixups)


def test_lookups_outside_the_list_and_deprecated_ones_are_left_out() -> None:
    answers = {"responses": {"200": {"description": "ok"}}}
    contract = prepare(
        _document(
            {"get_projects": answers, "get_metrics": answers, "getNodePools": {"deprecated": True, **answers}}
        ),
        "inline",
    )
    assert "get_projects" in contract.operations
    assert "get_metrics" not in contract.operations and "getNodePools" not in contract.operations


def test_the_allowances_cover_lookups_named_in_lists() -> None:
    """The allowances file names several look-ups in one entry; each of them gets the statuses."""
    answers = acceptable_answers()
    assert answers["get_workloads"] == answers["get_projects"] == ["2xx", "400", "401", "403"]
    assert "400" in answers["create_training1"]


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

"""The served contracts in spec/ are what scripts/derive_contracts.py makes of the official documents."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from connexion.json_schema import Draft4RequestValidator
from connexion.spec import Specification
from jsonschema import Draft4Validator

from contracts import fixups
from mockserver.http.not_simulated import official_paths, read_official_paths
from mockserver.http.schemacheck import compile_check
from mockserver.http.spec_once import checked_fingerprints, fingerprint
from mockserver.http.validation import install_formats
from mockserver.specs import CONTROL_SPEC, INDEX, OFFICIAL_VERSIONS, load_spec, served_document, spec_dir
from mockserver.versions import VERSIONS
from scripts import derive_contracts

TRAININGS = {"create_training1", "get_training", "delete_training", "suspend_training", "resume_training"}


@pytest.mark.parametrize("version", OFFICIAL_VERSIONS)
def test_committed_contract_is_what_the_script_writes(version: str) -> None:
    committed = (spec_dir() / derive_contracts.contract_file(version)).read_text(encoding="utf-8")
    assert committed == derive_contracts.render(version), (
        f"spec/{derive_contracts.contract_file(version)} is stale: run scripts/derive_contracts.py"
    )


def test_committed_index_is_what_the_script_writes() -> None:
    """spec/index.json: the official paths a fake reads at start, and the served documents' fingerprints
    that Connexion's check passed (the script runs the check; a start then skips it for them)."""
    committed = (spec_dir() / INDEX).read_text(encoding="utf-8")
    assert committed == derive_contracts.index(), "spec/index.json is stale: run scripts/derive_contracts.py"
    assert official_paths() == read_official_paths()
    every_served = {fingerprint(served_document(row.spec, name)) for name, row in VERSIONS.items()}
    assert every_served | {fingerprint(load_spec(CONTROL_SPEC))} == checked_fingerprints()


def test_check_mode_says_whether_spec_is_current(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(derive_contracts, "OFFICIAL_VERSIONS", ("2.18", "2.19"))
    monkeypatch.setattr(derive_contracts, "versions_doc", lambda: derive_contracts.VERSIONS_DOC.read_text())
    monkeypatch.setattr(derive_contracts, "index", lambda: (spec_dir() / INDEX).read_text(encoding="utf-8"))
    assert derive_contracts.main(["--check"]) == 0
    stale = tmp_path / "spec"
    stale.mkdir()
    (stale / "served.yaml").write_text((spec_dir() / "served.yaml").read_text())
    (stale / "trainings-2.18.yaml").write_text("# edited by hand\n")
    monkeypatch.setattr(derive_contracts, "spec_dir", lambda: stale)
    assert derive_contracts.main(["--check"]) == 1


def test_every_fixup_is_declared_once_with_its_reason() -> None:
    names = [fixup.name for fixup in fixups.SERVING]
    assert len(names) == len(set(names))
    assert set(fixups.READING) <= set(fixups.SERVING)
    assert all(len(fixup.reason) > 40 for fixup in fixups.SERVING)


@pytest.mark.parametrize("version", OFFICIAL_VERSIONS)
def test_each_version_serves_the_listed_operations_its_document_has(version: str) -> None:
    document = load_spec(derive_contracts.contract_file(version))
    served = {op["operationId"] for _, _, op in fixups.operation_items(document)}
    assert TRAININGS | {"grant_token", "get_workloads", "count_workloads", "get_workload_pods"} <= served
    # The node-pool list was renamed after 2.18: one of the two names is served, the newer where it exists.
    assert served & {"getNodePools", "get_nodepools"} == {
        "getNodePools" if version == "2.18" else "get_nodepools"
    }
    paths = list(document["paths"])
    assert paths.index("/api/v1/workloads/count") < paths.index("/api/v1/workloads/{workloadId}")


@pytest.mark.parametrize("version", OFFICIAL_VERSIONS)
def test_the_create_body_check_compiles_and_the_seed_example_passes_it(version: str) -> None:
    install_formats()
    resolved = Specification.load(load_spec(derive_contracts.contract_file(version)))
    media = resolved["paths"]["/api/v1/workloads/trainings"]["post"]["requestBody"]["content"][
        "application/json"
    ]
    check = compile_check(media["schema"], Draft4RequestValidator, Draft4Validator.FORMAT_CHECKER)
    assert check is not None, "the create schema is not flat: the fast path would fall back to jsonschema"
    seed = media["examples"]["seed"]["value"]
    assert check(seed)
    assert not check({**seed, "spec": {**seed["spec"], "compute": {"gpuRequestType": "whole"}}})


def test_merging_keeps_the_constraints_of_every_part() -> None:
    document: dict[str, Any] = {
        "paths": {},
        "components": {
            "schemas": {
                "Named": {"properties": {"name": {"type": "string"}}, "required": ["name"]},
                "Both": {
                    "allOf": [
                        {"$ref": "#/components/schemas/Named"},
                        {
                            "properties": {
                                "name": {"type": "string", "minLength": 1},
                                "size": {"type": "integer"},
                            }
                        },
                    ]
                },
            }
        },
    }
    assert fixups.merge_compositions(document)
    both = document["components"]["schemas"]["Both"]
    assert both == {
        "type": "object",
        "properties": {"name": {"type": "string", "minLength": 1}, "size": {"type": "integer"}},
        "required": ["name"],
    }
    validator = Draft4Validator(both)
    assert not validator.is_valid({"name": ""}) and not validator.is_valid({"size": 1})


def test_a_schema_that_contains_itself_is_cut_to_a_plain_object() -> None:
    parent = {"$ref": "#/components/schemas/Department"}
    document = {"components": {"schemas": {"Department": {"properties": {"parent": parent, "id": {}}}}}}
    assert fixups.cut_recursion(document)
    assert document["components"]["schemas"]["Department"]["properties"]["parent"] == {"type": "object"}
    assert not fixups.cut_recursion(document)


def test_a_property_named_required_is_not_mistaken_for_a_schema() -> None:
    status = {"properties": {"required": {"type": "object"}, "optional": {"type": "object"}}}
    document = {"components": {"schemas": {"Status": status}}}
    fixups.type_untyped_objects(document)
    assert status == {
        "type": "object",
        "properties": {"required": {"type": "object"}, "optional": {"type": "object"}},
    }


def test_docs_versions_is_the_diff_of_consecutive_versions() -> None:
    committed = derive_contracts.VERSIONS_DOC.read_text(encoding="utf-8")
    assert committed == derive_contracts.versions_doc(), (
        "docs/versions.md is stale: run scripts/derive_contracts.py"
    )
    assert "## 2.20 → 2.21" in committed and "**breaking** success status changed: 200 → 202" in committed


def test_the_product_name_is_taken_out_of_field_names() -> None:
    project = {
        "properties": {"enforceRun:aiScheduler": {"type": "boolean"}},
        "required": ["enforceRun:aiScheduler"],
    }
    document = {"components": {"schemas": {"Project": project}}}
    assert fixups.product_name_in_field_names(document)
    assert project == {
        "properties": {"enforceRunaiScheduler": {"type": "boolean"}},
        "required": ["enforceRunaiScheduler"],
    }


def test_a_type_contradicting_its_parts_gives_way_and_merging_then_agrees() -> None:
    reason = {"type": "object", "nullable": True, "allOf": [{"$ref": "#/components/schemas/PhaseReason"}]}
    document: dict[str, Any] = {
        "components": {
            "schemas": {
                "PhaseReason": {"type": "string", "enum": ["OverLimit"]},
                "Workload": {"properties": {"phaseReason": reason}},
            }
        }
    }
    with pytest.raises(ValueError, match="disagree about the type"):
        fixups.merge_compositions(copy.deepcopy(document))
    assert fixups.contradictory_types(document)
    fixups.merge_compositions(document)
    assert reason == {"type": "string", "enum": ["OverLimit"], "nullable": True}


@pytest.mark.parametrize("version", OFFICIAL_VERSIONS)
def test_every_nullable_enum_lists_null(version: str) -> None:
    # Merging allOf makes nullable enums of its own (a nullable field that referred to a plain enum), so
    # null is added after merging: a workload's `phaseReason: null` must be valid in every version.
    document = load_spec(derive_contracts.contract_file(version))
    missing: list[Any] = []

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if (
                node.get("nullable") is True
                and isinstance(node.get("enum"), list)
                and None not in node["enum"]
            ):
                missing.append(node["enum"])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(document)
    assert missing == []

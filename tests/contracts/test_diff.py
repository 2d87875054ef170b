"""`contracts diff`: what an upgrade changes for a client, operation by operation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from contracts.cli import main
from contracts.diff import ChangeKind, compare
from contracts.diff.sources import load
from mockserver.specs import OFFICIAL_VERSIONS

CREATE = ("POST", "/api/v1/workloads/trainings")
DELETE = ("DELETE", "/api/v1/workloads/trainings/{workloadId}")


def _between(old: str, new: str) -> list[Any]:
    return list(compare(load(old)[1], load(new)[1], old, new).changes)


def _found(changes: list[Any], where: tuple[str, str], kind: ChangeKind) -> list[str]:
    return [c.detail for c in changes if (c.method, c.path) == where and c.kind is kind]


def test_2_21_answers_create_and_delete_with_202() -> None:
    changes = _between("2.20", "2.21")
    assert _found(changes, CREATE, ChangeKind.SUCCESS_STATUS_CHANGED) == ["200 → 202"]
    assert _found(changes, DELETE, ChangeKind.SUCCESS_STATUS_CHANGED) == ["204 → 202"]
    assert all(c.breaking for c in changes if c.kind is ChangeKind.SUCCESS_STATUS_CHANGED)


def test_2_24_drops_mig_profiles_and_adds_preemptibility() -> None:
    changes = _between("2.23", "2.24")
    removed = _found(changes, CREATE, ChangeKind.REQUEST_FIELD_REMOVED)
    assert "spec.compute.migProfile" in removed
    assert "spec.preemptibility" in _found(changes, CREATE, ChangeKind.REQUEST_FIELD_ADDED)
    assert "spec.compute.gpuRequestType: `migProfile`" in _found(
        changes, CREATE, ChangeKind.REQUEST_ENUM_REMOVED
    )
    read = ("GET", "/api/v1/workloads/trainings/{workloadId}")
    assert "spec.compute.migProfile" in _found(changes, read, ChangeKind.RESPONSE_FIELD_REMOVED)


@pytest.mark.parametrize("version", [*OFFICIAL_VERSIONS, "latest"])
def test_a_document_against_itself_changes_nothing(version: str) -> None:
    assert _between(version, version) == []


def test_2_22_lets_workloads_be_sorted_by_priority() -> None:
    # 2.22 names its priority classes (very-low … very-high) only in prose; the enum a client feels is sortBy.
    changes = _between("2.21", "2.22")
    added = _found(changes, ("GET", "/api/v1/workloads"), ChangeKind.REQUEST_ENUM_ADDED)
    assert added == ["query sortBy: `category`, `priority`"]


def test_new_required_field_and_removed_enum_value_break_clients() -> None:
    def document(required: list[str], enum: list[str]) -> dict[str, Any]:
        body = {
            "type": "object",
            "required": required,
            "properties": {"name": {"type": "string"}, "kind": {"type": "string", "enum": enum}},
        }
        operation = {
            "operationId": "make",
            "requestBody": {"content": {"application/json": {"schema": body}}},
            "responses": {"201": {"description": "made"}},
        }
        return {"openapi": "3.0.3", "paths": {"/things": {"post": operation}}}

    changes = compare(document([], ["a", "b"]), document(["kind"], ["a", "c"]), "old", "new").changes
    kinds = {(c.kind, c.detail, c.breaking) for c in changes}
    assert (ChangeKind.REQUEST_FIELD_REQUIRED, "kind", True) in kinds
    assert (ChangeKind.REQUEST_ENUM_REMOVED, "kind: `b`", True) in kinds
    assert (ChangeKind.REQUEST_ENUM_ADDED, "kind: `c`", False) in kinds
    back = compare(document(["kind"], ["a"]), document([], ["a"]), "old", "new").changes
    assert [(c.kind, c.breaking) for c in back] == [(ChangeKind.REQUEST_FIELD_OPTIONAL, False)]


def test_cli_exits_1_on_a_breaking_upgrade_and_0_otherwise(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", "2.20", "2.21"]) == 1
    markdown = capsys.readouterr().out
    assert "## 2.20 → 2.21" in markdown
    assert "**breaking** success status changed: 200 → 202" in markdown
    assert main(["diff", "2.21", "2.21"]) == 0
    assert "No change a client would feel." in capsys.readouterr().out


def test_cli_json_lists_every_change(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", "2.23", "latest", "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["old"], report["new"]) == ("2.23", "latest")
    assert report["breaking"] == sum(change["breaking"] for change in report["changes"])
    assert {
        "operation": "POST /api/v1/workloads/trainings",
        "operationId": "create_training1",
        "kind": "request field removed",
        "detail": "spec.compute.migProfile",
        "breaking": True,
    } in report["changes"]


def test_cli_reads_files_and_says_plainly_what_it_cannot_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mockserver.specs import read_official_document

    official = tmp_path / "runai-2.18.json"
    official.write_text(read_official_document("2.18"))
    assert main(["diff", str(official), str(official)]) == 0
    assert main(["diff", str(tmp_path / "missing.yaml"), "2.18"]) == 2
    assert "cannot be read" in capsys.readouterr().err
    (tmp_path / "not-openapi.yaml").write_text("just: yaml\n")
    assert main(["diff", str(tmp_path / "not-openapi.yaml"), "2.18"]) == 2
    assert main(["diff", "2.18", "2.19", "--url"]) == 2


def test_official_documents_can_be_compared_whole() -> None:
    changes = compare(load("2.18", official=True)[1], load("2.19", official=True)[1], "2.18", "2.19").changes
    # The batch endpoint arrives in 2.19 (not served by the fake yet, but in the official document).
    assert any(c.kind is ChangeKind.OPERATION_ADDED and c.path == "/api/v1/workloads/batch" for c in changes)


@pytest.mark.slow
def test_two_live_backends_are_compared_by_their_served_documents(capsys: pytest.CaptureFixture[str]) -> None:
    from contracts.backend.server import LocalServer, fake_command

    with (
        LocalServer.start(fake_command(api="2.20")) as old,
        LocalServer.start(fake_command(api="2.21")) as new,
    ):
        assert main(["diff", "--url", old.base_url, new.base_url, "--format", "json"]) == 1
        report = json.loads(capsys.readouterr().out)
        assert main(["diff", "--url", new.base_url, new.base_url]) == 0
    changes = {(c["operationId"], c["kind"], c["detail"]) for c in report["changes"]}
    assert ("create_training1", "success status changed", "200 → 202") in changes
    assert ("delete_training", "success status changed", "204 → 202") in changes

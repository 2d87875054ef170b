"""`contracts run --api VERSION` against the fake serving that version: every version conforms, every
workload kind its contract declares fuzzed."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.backend.journal import read_entries
from contracts.cli import main
from contracts.specs import KINDS, load_contract
from tests.contracts.test_harness_vs_fake import findings

pytestmark = pytest.mark.slow


# `latest` names 2.24 (one bundled contract, checked below): a run of its own would repeat the 2.24 run.
@pytest.mark.parametrize("version", ["2.18", "2.19", "2.20", "2.21", "2.22", "2.23", "2.24"])
def test_the_fake_conforms_to_each_version_contract(version: str, tmp_path: Path) -> None:
    budget = ["--phases", "examples,fuzzing,stateful", "--max-examples", "5", "--seed", "1"]
    if version not in ("2.18", "2.24"):
        # Between the oldest and the newest, the scenarios whose answers differ by version (create, delete,
        # suspend codes; each kind's lifecycle); the trainings' scheduling scenarios run on both ends.
        budget += ["--scenarios", "lifecycle,workspace-completes,distributed-runs,inference-updates"]
    assert main(["run", "--api", version, *budget, "--report-dir", str(tmp_path)]) == 0, findings(tmp_path)
    report = (tmp_path / "report.md").read_text()
    assert (
        f"{'trainings-latest.yaml' if version == '2.24' else f'trainings-{version}.yaml'} (bundled)" in report
    )
    # Every kind the version's contract declares was fuzzed: created (journalled with its kind) and its
    # other operations called, PATCH of inferences and distributed suspend/resume where the version has them.
    contract = load_contract(api=version)
    created = {entry.kind for entry in read_entries(next(tmp_path.glob("journal-*.jsonl")))}
    assert created == {kind.collection for kind in KINDS}
    for kind in KINDS:
        for operation_id in kind.operation_ids:
            if operation_id in contract.operations:
                assert fuzzed(report, contract.operation(operation_id).label), operation_id


def fuzzed(report: str, label: str) -> bool:
    """Whether the coverage matrix counts a request to the operation beyond the run's 401 probes."""
    header = next(line for line in report.splitlines() if line.startswith("| operation |"))
    row = next(line for line in report.splitlines() if line.startswith(f"| {label} |"))
    statuses = [cell.strip() for cell in header.strip("|").split("|")][1:]
    counts = [cell.strip() for cell in row.strip("|").split("|")][1:]
    return any(count.isdigit() and status != "401" for status, count in zip(statuses, counts, strict=True))


def test_latest_is_the_2_24_contract() -> None:
    latest, newest = load_contract(api="latest"), load_contract(api="2.24")
    assert latest.operations.keys() == newest.operations.keys()
    assert latest.source == newest.source

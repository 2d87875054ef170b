"""`contracts run --api VERSION` against the fake serving that version: every version conforms, every
workload kind its contract declares fuzzed."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.cli import main
from contracts.specs import load_contract
from tests.contracts.run_reports import every_kind_was_fuzzed, findings

pytestmark = pytest.mark.slow


# `latest` names 2.24 (one bundled contract, checked below): a run of its own would repeat the 2.24 run.
# 2.18, the default version, is the default run's (test_harness_vs_fake.py): every phase and scenario, the
# same depth, and the same check that every kind was fuzzed.
@pytest.mark.parametrize("version", ["2.19", "2.20", "2.21", "2.22", "2.23", "2.24"])
def test_the_fake_conforms_to_each_version_contract(version: str, tmp_path: Path) -> None:
    budget = ["--phases", "examples,fuzzing,stateful", "--max-examples", "5", "--seed", "1"]
    if version != "2.24":
        # Between the oldest and the newest, the scenarios whose answers differ by version (create, delete,
        # suspend codes; each kind's lifecycle); the trainings' scheduling scenarios run on both ends.
        budget += ["--scenarios", "lifecycle,workspace-completes,distributed-runs,inference-updates"]
    assert main(["run", "--api", version, *budget, "--report-dir", str(tmp_path)]) == 0, findings(tmp_path)
    report = (tmp_path / "report.md").read_text()
    assert (
        f"{'trainings-latest.yaml' if version == '2.24' else f'trainings-{version}.yaml'} (bundled)" in report
    )
    every_kind_was_fuzzed(tmp_path, version)


def test_latest_is_the_2_24_contract() -> None:
    latest, newest = load_contract(api="latest"), load_contract(api="2.24")
    assert latest.operations.keys() == newest.operations.keys()
    assert latest.source == newest.source

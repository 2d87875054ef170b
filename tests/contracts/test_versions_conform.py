"""`contracts run --api VERSION` against the fake serving that version: every version conforms."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.cli import main
from tests.contracts.test_harness_vs_fake import findings

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("version", ["2.18", "2.19", "2.20", "2.21", "2.22", "2.23", "2.24", "latest"])
def test_the_fake_conforms_to_each_version_contract(version: str, tmp_path: Path) -> None:
    budget = ["--phases", "examples,fuzzing,stateful", "--max-examples", "5", "--seed", "1"]
    assert main(["run", "--api", version, *budget, "--report-dir", str(tmp_path)]) == 0, findings(tmp_path)
    report = (tmp_path / "report.md").read_text()
    assert (
        f"{'trainings-latest.yaml' if version in ('2.24', 'latest') else f'trainings-{version}.yaml'} (bundled)"
        in report
    )

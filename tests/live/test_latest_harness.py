"""The harness with the official latest document as contract, against the fake serving the latest API."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.backend.server import LocalServer, fake_command
from contracts.cli import main
from mockserver.specs import official_document_path

OFFICIAL_LATEST = official_document_path("latest")


@pytest.mark.slow
def test_official_latest_document_passes_the_latest_fake(tmp_path: Path) -> None:
    with LocalServer.start(fake_command(seed=0, api="latest")) as server:
        code = main(
            [
                "run",
                "--url",
                server.base_url,
                "--spec",
                str(OFFICIAL_LATEST),
                "--seed",
                "0",
                "--max-examples",
                "5",
                # The coverage phase (thousands of requests) runs once, in the default run on 2.18.
                "--phases",
                "examples,fuzzing,stateful",
                "--report-dir",
                str(tmp_path),
            ]
        )
    assert code == 0, (tmp_path / "report.md").read_text()

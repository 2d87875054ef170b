"""Runs `contracts run` against each mutant once per session and keeps what it found."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

import pytest

from contracts.backend.server import LocalServer
from contracts.cli import main

ROOT = Path(__file__).resolve().parents[2]
# Every phase, with few examples: each mutant's defect shows up in one of them or in a scenario (a path
# id that is not a uuid, for one, only in the coverage phase's negative data: the stateful phase is
# positive).
RUN = ["run", "--seed", "0", "--max-examples", "5"]


def found_checks(report_dir: Path) -> set[str]:
    root = ElementTree.parse(report_dir / "junit.xml").getroot()
    texts = [failure.text or "" for failure in root.iter("failure")]
    return {match for text in texts for match in re.findall(r"^\[([^\]]+)\]", text, re.MULTILINE)}


def run_against(name: str, report_dir: Path) -> tuple[int, set[str]]:
    def command(port: int) -> list[str]:
        return [sys.executable, "-m", "tests.mutants.serve", name, "--port", str(port)]

    with LocalServer.start(command, cwd=ROOT) as server:
        exit_code = main([*RUN, "--url", server.base_url, "--report-dir", str(report_dir)])
    return exit_code, found_checks(report_dir)


@pytest.fixture(scope="session")
def mutant_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[int, set[str]]]:
    """`mutant_run(name)` -> (exit code, checks with findings); each mutant is run at most once."""
    results: dict[str, tuple[int, set[str]]] = {}

    def run(name: str) -> tuple[int, set[str]]:
        if name not in results:
            results[name] = run_against(name, tmp_path_factory.mktemp(name))
        return results[name]

    return run

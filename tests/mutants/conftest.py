"""Runs `contracts run` against each mutant once per session and keeps what it found — once for the
whole session even when pytest-xdist spreads the tests over workers: the first worker that needs a
mutant runs it under a lock and leaves the result in the session's shared temporary directory."""

from __future__ import annotations

import fcntl
import json
import re
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

import pytest

from contracts.cli import main
from tests.mutants.catalog import MUTANTS
from tests.mutants.serve import mutant_app
from tests.threaded import served_in_thread

# Few examples; each mutant adds the phases and scenarios that judge what it breaks (its `run`).
RUN = ["run", "--seed", "0", "--max-examples", "5"]


def found_checks(report_dir: Path) -> set[str]:
    root = ElementTree.parse(report_dir / "junit.xml").getroot()
    texts = [failure.text or "" for failure in root.iter("failure")]
    return {match for text in texts for match in re.findall(r"^\[([^\]]+)\]", text, re.MULTILINE)}


def run_against(name: str, report_dir: Path) -> tuple[int, set[str]]:
    # Served on a thread of this process: the harness judges answers, which a server process of its own
    # would not change (tests/contracts/test_real_time.py puts mutants behind a process as a proxy).
    with served_in_thread(mutant_app([name])) as base_url:
        argv = [*RUN, *MUTANTS[name].run, "--url", base_url, "--report-dir", str(report_dir)]
        exit_code = main(argv)
    return exit_code, found_checks(report_dir)


@pytest.fixture(scope="session")
def mutant_run(
    tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> Callable[[str], tuple[int, set[str]]]:
    """`mutant_run(name)` -> (exit code, checks with findings); each mutant is run at most once."""
    base = tmp_path_factory.getbasetemp()
    # Under xdist each worker has its own base under the session's one: the results go beside them.
    shared = (base.parent if worker_id != "master" else base) / "mutant-results"
    shared.mkdir(exist_ok=True)

    def run(name: str) -> tuple[int, set[str]]:
        result = shared / f"{name}.json"
        with open(shared / f"{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not result.is_file():
                exit_code, checks = run_against(name, tmp_path_factory.mktemp(name))
                result.write_text(json.dumps({"exit": exit_code, "checks": sorted(checks)}))
        kept = json.loads(result.read_text())
        return kept["exit"], set(kept["checks"])

    return run

"""Every flag the commands accept is documented, and every flag the docs name exists.

The docs are README.md and docs/*.md; flags are read from the parsers themselves (`--help` prints them).
Flags of other tools that the docs show (pytest, pip, wrk, curl …) are listed once, below."""

from __future__ import annotations

import argparse
import re

from contracts.cli import build_parser as contracts_parser
from mockserver.cli import build_parser as mockserver_parser
from mockserver.scenario.cli import build_parser as scenario_parser
from mockserver.scenario.pytest_plugin import TIMELINES_OPTION
from tests.conftest import REPO

OTHER_TOOLS = {
    "--slow",  # pytest (our conftest's option)
    "--durations",
    "--quiet",  # pip, also ours
    "--upgrade",
    "--output",
    "--port",
    "--cpu-time",  # bench/scheduler_scale.py
    "--quick",  # bench scripts
    "--baseline",
    "--prism-document",
    "--timeout",  # examples' own options
    "--url",
    "--client-id",
    "--client-secret",
    "--project",
}
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]+")


def _flags(parser: argparse.ArgumentParser) -> set[str]:
    found: set[str] = set()
    for action in parser._actions:
        found.update(s for s in action.option_strings if s.startswith("--"))
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= _flags(sub)
    return found - {"--help"}


def _documented() -> set[str]:
    texts = [(REPO / "README.md").read_text()] + [p.read_text() for p in sorted((REPO / "docs").glob("*.md"))]
    return {flag for text in texts for flag in FLAG.findall(text)} - {"--help"}


def test_every_mockserver_flag_is_documented() -> None:
    missing = _flags(mockserver_parser({})) - _documented()
    assert not missing, f"mockserver flags no doc mentions: {sorted(missing)}"


def test_every_contracts_flag_is_documented() -> None:
    missing = _flags(contracts_parser()) - _documented()
    assert not missing, f"contracts flags no doc mentions: {sorted(missing)}"


def test_every_scenario_flag_is_documented() -> None:
    missing = (_flags(scenario_parser()) | {TIMELINES_OPTION}) - _documented()
    assert not missing, f"mockserver scenario flags no doc mentions: {sorted(missing)}"


def test_every_documented_flag_exists() -> None:
    known = _flags(mockserver_parser({})) | _flags(contracts_parser()) | OTHER_TOOLS
    known |= _flags(scenario_parser()) | {TIMELINES_OPTION}
    unknown = _documented() - known
    assert not unknown, f"the docs name flags no command has: {sorted(unknown)}"

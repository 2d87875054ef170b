"""What a harness run left in its report directory, read as the tests need it."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree

from contracts.backend.journal import read_entries
from contracts.specs import KINDS, load_contract


def findings(report_dir: Path, leaving_out: frozenset[str] = frozenset()) -> set[str]:
    """`[check] title` of every finding, from the JUnit file CI would read (but for the cases named in
    `leaving_out`)."""
    root = ElementTree.parse(report_dir / "junit.xml").getroot()
    texts = [
        failure.text or ""
        for case in root.iter("testcase")
        if case.get("name") not in leaving_out
        for failure in case.iter("failure")
    ]
    return {match for text in texts for match in re.findall(r"^\[([^\]]+)\]", text, re.MULTILINE)}


def every_kind_was_fuzzed(report_dir: Path, version: str) -> None:
    """Every kind the version's contract declares was fuzzed: created (journalled with its kind) and its
    other operations called, PATCH of inferences and distributed suspend/resume where the version has them."""
    report = (report_dir / "report.md").read_text()
    contract = load_contract(api=version)
    created = {entry.kind for entry in read_entries(next(report_dir.glob("journal-*.jsonl")))}
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

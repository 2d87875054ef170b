"""The versions table is the one place that knows API versions apart (issue 17, item 2)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mockserver.specs import spec_file
from mockserver.versions import VERSIONS, ApiVersion

PACKAGE = Path(__file__).resolve().parents[2] / "mockserver"
# Comparisons of a version's name, or a version written as a literal, outside the table.
_NAME_COMPARISON = re.compile(r"version\.name\s*[!=]=|[!=]=\s*\w*version\.name|\"2\.(1[89]|2[0-4])\"")


def test_no_version_name_is_compared_outside_the_table() -> None:
    offenders = []
    for source in PACKAGE.rglob("*.py"):
        if source.is_relative_to(PACKAGE / "versions") or source.name == "specs.py":
            continue  # the table itself, and the list of official documents the repository holds
        for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
            if _NAME_COMPARISON.search(line):
                offenders.append(f"{source.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert offenders == []


@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_each_row_is_consistent(version: str) -> None:
    row: ApiVersion = VERSIONS[version]
    assert row.name == version
    assert spec_file(row.spec).is_file()
    assert row.create_status in (200, 201, 202)
    assert row.delete_status in (202, 204)
    # A default priority is one the version's clients could have named themselves, except inferences' in
    # the classic dictionary: their spec has no priorityClass there, they run at `inference`.
    for category, default in row.default_priority.items():
        assert default in row.priority_classes or (category, default) == ("Deploy", "inference")
        assert row.priority_for(category, None) == default
        assert row.priority_for(category, "very-high") == "very-high"
    for kind, actions in row.actions.items():
        assert actions <= {"suspend", "resume", "delete"}, kind


def test_rows_differ_only_as_data() -> None:
    old, new = VERSIONS["2.18"], VERSIONS["latest"]
    assert (old.create_status, old.delete_status) == (200, 204)
    assert (new.create_status, new.delete_status) == (202, 202)
    assert old.workload_fields < new.workload_fields
    assert old.default_priority["Build"] == "build" and new.default_priority["Build"] == "high"

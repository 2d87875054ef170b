"""The harness has teeth: every broken backend fails `contracts run` with a finding that names its
defect, and the wrapper without a defect passes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.mutants.catalog import MUTANTS

# Spread: each mutant's test may run on any worker; conftest.py runs each mutant once per session.
pytestmark = [pytest.mark.slow, pytest.mark.spread]
BROKEN = sorted(name for name in MUTANTS if MUTANTS[name].caught_by)
Runner = Callable[[str], tuple[int, set[str]]]


def test_the_wrapper_alone_passes(mutant_run: Runner) -> None:
    assert mutant_run("clean") == (0, set())


def parts(run: tuple[str, ...]) -> set[str]:
    """The phases and scenarios a run's arguments name (`--phases a,b --scenarios c`)."""
    named = dict(zip(run[::2], run[1::2], strict=True))
    return {f"{flag}={part}" for flag, value in named.items() for part in value.split(",") if part}


@pytest.mark.parametrize("name", BROKEN)
def test_mutant_is_caught(mutant_run: Runner, name: str) -> None:
    # Its part of a run is one the clean wrapper passes: the finding is the defect's, not the wrapper's.
    assert parts(MUTANTS[name].run) and parts(MUTANTS[name].run) <= parts(MUTANTS["clean"].run)
    exit_code, checks = mutant_run(name)
    assert exit_code == 1, f"{name} passed: {MUTANTS[name].defect}"
    assert checks & set(MUTANTS[name].caught_by), f"{name}: found {sorted(checks)}, none names the defect"


def test_detection_rate(mutant_run: Runner, capsys: pytest.CaptureFixture[str]) -> None:
    rows = []
    for name in BROKEN:
        exit_code, checks = mutant_run(name)
        naming = sorted(checks & set(MUTANTS[name].caught_by))
        rows.append((name, MUTANTS[name].defect, exit_code == 1 and bool(naming), naming))
    caught = sum(1 for row in rows if row[2])
    with capsys.disabled():
        print(f"\n{'mutant':24} {'caught':7} {'by':40} defect")
        for name, defect, hit, naming in rows:
            print(f"{name:24} {'yes' if hit else 'NO':7} {', '.join(naming):40} {defect}")
        print(f"detection rate: {caught}/{len(rows)} = {caught / len(rows):.0%}")
    assert len(rows) >= 12
    assert caught == len(rows)

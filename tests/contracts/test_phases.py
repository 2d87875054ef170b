"""The phase table: what time alone explains, what an action allows, and what nothing explains."""

from __future__ import annotations

import pytest

from contracts.oracle.phases import PHASES, SPONTANEOUS, Action, desired_allowed, is_legal, reachable

S, R, D = Action.SUSPEND, Action.RESUME, Action.DELETE


@pytest.mark.parametrize(
    ("before", "after", "actions"),
    [
        ("Creating", "Running", ()),  # a poll may miss Pending and Initializing
        ("Running", "Initializing", ()),  # a container restart
        ("Running", "Pending", ()),  # preempted between two polls
        ("Running", "Stopped", (S,)),
        ("Running", "Completed", (S,)),  # finished before the suspend arrived
        ("Stopped", "Running", (R,)),
        ("Stopped", "Running", (S, R)),
        ("Pending", "Deleting", (D,)),
        ("Running", "Unknown", ()),
        ("Unknown", "Running", ()),
    ],
)
def test_legal(before: str, after: str, actions: tuple[Action, ...]) -> None:
    assert is_legal(before, after, actions)


@pytest.mark.parametrize(
    ("before", "after", "actions"),
    [
        ("Completed", "Running", ()),
        ("Failed", "Pending", (R,)),
        ("Stopping", "Running", ()),
        ("Stopped", "Running", ()),
        ("Pending", "Stopped", ()),
        ("Running", "Running", (S,)),  # a suspend that took effect cannot leave it running
        ("Deleting", "Running", ()),
        ("Running", "Creating", ()),
        ("Running", "Pending", (D,)),
    ],
)
def test_illegal(before: str, after: str, actions: tuple[Action, ...]) -> None:
    assert not is_legal(before, after, actions)


def test_the_table_covers_every_phase_but_unknown() -> None:
    assert set(SPONTANEOUS) == set(PHASES) - {"Unknown"}
    assert all(successors <= set(PHASES) for successors in SPONTANEOUS.values())


def test_terminal_phases_stay_put() -> None:
    # Only auto-deletion moves a finished training on; it never comes back to life.
    assert reachable("Completed") == {"Completed", "Deleting"}
    assert reachable("Completed", (S, R)) == {"Completed", "Deleting"}


@pytest.mark.parametrize(
    ("previous", "actions", "actual", "allowed"),
    [
        ({"Running"}, (S,), "Stopping", {"Stopped"}),
        ({"Running"}, (S,), "Completed", {"Running", "Stopped"}),  # suspending a finished one: no-op
        ({"Stopped"}, (R,), "Stopping", {"Stopped", "Running"}),  # resume before Stopped: no-op
        ({"Stopped"}, (R,), "Pending", {"Running"}),
        ({"Running"}, (S, R), "Running", {"Running"}),
        ({"Running"}, (D,), "Deleting", {"Deleted"}),
        ({"Running"}, (), "Running", {"Running"}),
    ],
)
def test_desired_phase(
    previous: set[str], actions: tuple[Action, ...], actual: str, allowed: set[str]
) -> None:
    assert desired_allowed(frozenset(previous), actions, actual) == allowed

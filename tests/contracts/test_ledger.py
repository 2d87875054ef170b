"""The ledger follows trainings over the run: phases, desiredPhase, spec, disappearance."""

from __future__ import annotations

from typing import Any

from contracts.oracle.ledger import Ledger
from contracts.oracle.phases import Action

WID = "c8a70639-eb11-47b3-a7a9-c3787c65c1e5"


def read(phase: str, desired: str = "Running", spec: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "workloadId": WID,
        "actualPhase": phase,
        "desiredPhase": desired,
        "spec": spec or {"image": "busybox"},
    }


def created() -> Ledger:
    ledger = Ledger()
    ledger.created(read("Creating"), {"image": "busybox"})
    return ledger


def test_a_normal_life_raises_nothing() -> None:
    ledger = created()
    for phase in ("Pending", "Initializing", "Running"):
        assert ledger.read(read(phase)) == []
    ledger.acted(WID, Action.SUSPEND)
    assert ledger.read(read("Stopping", "Stopped")) == []
    assert ledger.read(read("Stopped", "Stopped")) == []
    ledger.acted(WID, Action.RESUME)
    assert ledger.read(read("Running")) == []
    ledger.acted(WID, Action.DELETE)
    assert ledger.read(read("Deleting", "Deleted")) == []
    assert ledger.not_found(WID) == []


def test_illegal_jump() -> None:
    ledger = created()
    assert "illegal actualPhase transition Creating -> Stopped" in ledger.read(read("Stopped"))[0]


def test_desired_phase_must_follow_a_suspend() -> None:
    ledger = created()
    ledger.read(read("Running"))
    ledger.acted(WID, Action.SUSPEND)
    problems = ledger.read(read("Stopping", "Running"))
    assert any("desiredPhase 'Running' after suspend" in p for p in problems)


def test_spec_must_come_back() -> None:
    problems = created().read(read("Pending", spec={"image": "python"}))
    assert any("different spec" in p for p in problems)


def test_readable_again_after_404() -> None:
    ledger = created()
    ledger.acted(WID, Action.DELETE)
    assert ledger.not_found(WID) == []
    assert any("readable again" in p for p in ledger.read(read("Deleting", "Deleted")))


def test_vanishing_without_delete_from_a_phase_that_cannot_finish() -> None:
    ledger = created()
    ledger.read(read("Running"))
    ledger.acted(WID, Action.SUSPEND)
    ledger.read(read("Stopped", "Stopped"))
    assert ledger.not_found(WID)


def test_trainings_of_others_are_ignored() -> None:
    assert Ledger().read(read("Completed")) == []


def test_auto_deletion_after_completion_is_a_legal_path() -> None:
    # autoDeletionTimeAfterCompletionSeconds: the system deletes the training, no delete was sent. A real
    # cluster shows Deleting (pod termination) with desiredPhase Deleted, then 404.
    ledger = created()
    for phase in ("Pending", "Initializing", "Running", "Completed"):
        assert ledger.read(read(phase)) == []
    assert ledger.read(read("Deleting", "Deleted")) == []
    assert ledger.not_found(WID) == []


def test_deleting_without_a_delete_is_still_judged_from_where_it_came() -> None:
    # A suspended training never finishes by itself, so nothing deletes it automatically: Stopped ->
    # Deleting needs a delete. The system-deletion allowance does not make any jump legal.
    ledger = created()
    assert ledger.read(read("Running")) == []
    ledger.acted(WID, Action.SUSPEND)
    assert ledger.read(read("Stopped", "Stopped")) == []
    problems = ledger.read(read("Deleting", "Deleted"))
    assert any("illegal actualPhase transition Stopped -> Deleting" in p for p in problems)


def test_eviction_back_to_pending_is_legal_and_keeps_desired_running() -> None:
    ledger = created()
    assert ledger.read(read("Running")) == []
    assert ledger.read(read("Pending")) == []
    assert ledger.read(read("Pending", "Deleted")) != []

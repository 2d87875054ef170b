"""The harness's phase machine (contracts/oracle/phases.py) against the fake's transition table, without
running anything: every move the fake can make by itself or on an action must be one the harness accepts."""

from __future__ import annotations

import pytest

from contracts.oracle import phases as harness
from mockserver.cluster.kinds import DISTRIBUTED, INFERENCE, TRAINING, WORKSPACE
from mockserver.cluster.lifecycle import CLIENT_TRIGGERS, TRANSITIONS, Trigger, spontaneous_moves
from mockserver.cluster.phases import Phase
from mockserver.views.workloads import K8S_PHASE

ACTION_OF = {
    Trigger.SUSPEND: harness.Action.SUSPEND,
    Trigger.RESUME: harness.Action.RESUME,
    Trigger.DELETE: harness.Action.DELETE,
}


def test_every_phase_of_the_fake_is_known_to_the_harness():
    assert {p.value for p in Phase} <= set(harness.PHASES)


@pytest.mark.parametrize("move", sorted(spontaneous_moves()), ids=lambda m: f"{m[0].value}->{m[1].value}")
def test_spontaneous_moves_are_legal_for_the_harness(move):
    before, after = move
    assert harness.is_legal(before.value, after.value), f"harness refuses {before.value} -> {after.value}"


@pytest.mark.parametrize(
    "row",
    [r for r in TRANSITIONS if r.trigger in CLIENT_TRIGGERS and r.target is not None],
    # Sources are a frozenset, whose order changes with the hash seed: ids sorted, so that every process
    # (pytest-xdist's workers) names the same cases alike.
    ids=lambda r: f"{r.trigger.value}:{','.join(sorted(s.value for s in r.source))}->{r.target.value}",
)
def test_action_moves_are_legal_for_the_harness(row):
    action = ACTION_OF[row.trigger]
    for source in row.source:
        assert row.target is not None
        assert harness.is_legal(source.value, row.target.value, [action]), (source, row.target, action)


def test_resumed_while_stopping_is_legal_after_a_resume():
    # The fake's Stopping -> Resuming row fires on time passing, but only after a resume arrived.
    assert harness.is_legal("Stopping", "Resuming", [harness.Action.RESUME])
    assert not harness.is_legal("Stopping", "Resuming")


def test_the_harness_refuses_what_the_fake_never_does():
    # A check of the check: the comparison above would pass vacuously if is_legal accepted anything.
    moves = spontaneous_moves()
    assert (Phase.COMPLETED, Phase.RUNNING) not in moves
    assert not harness.is_legal("Completed", "Running")
    assert not harness.is_legal("Stopped", "Running")


@pytest.mark.parametrize("kind", [TRAINING, WORKSPACE, DISTRIBUTED, INFERENCE], ids=lambda k: k.name)
def test_every_kinds_own_moves_are_legal_for_the_harness(kind):
    # Each kind names its table: the inferences' Updating rows and the Job controller's Degraded rows
    # (trainings, workspaces, distributed trainings) are checked alike.
    moves = spontaneous_moves(kind.transitions)
    assert moves
    for before, after in moves:
        assert harness.is_legal(before.value, after.value), (kind.name, before.value, after.value)


def test_both_lines_phases_are_moves_of_some_table_and_shown_to_kubernetes_clients():
    # Degraded (a Job that lost a pod) and Updating (an inference's rollout) are each reached by a
    # table, and every phase of the fake has a Kubernetes phase in the workloads view.
    # (An inference's update has no harness action: its moves are judged as the cluster's own.)
    training_moves = {after for _, after in spontaneous_moves(TRAINING.transitions)}
    inference_moves = {after for _, after in spontaneous_moves(INFERENCE.transitions)}
    assert Phase.DEGRADED in training_moves and Phase.DEGRADED not in inference_moves
    assert Phase.UPDATING in inference_moves and Phase.UPDATING not in training_moves
    assert {p.value for p in Phase} <= set(K8S_PHASE)
    assert K8S_PHASE["Degraded"] == "Running" and K8S_PHASE["Updating"] == "Pending"

"""Views name reasons by their codes, never by their words (issue 17, item 3): rewording a scheduler
message cannot change `phaseReason`, an event's reason or a preemption condition."""

from __future__ import annotations

import dataclasses

from mockserver.cluster.events import Event, EventKind
from mockserver.cluster.phases import Phase
from mockserver.cluster.reasons import Reason, ReasonCode
from mockserver.cluster.resources import PodRequest
from mockserver.cluster.scheduler import messages
from mockserver.cluster.workload import PhaseChange
from mockserver.views.events import _phase_reason
from mockserver.views.facts import WorkloadFacts
from mockserver.views.workloads import conditions, phase_reason

FACTS = WorkloadFacts(
    id="w",
    name="w",
    kind="training",
    type="Training",
    category="Train",
    actions=frozenset(),
    project_id="1",
    department_id="2",
    cluster_id="c",
    submitted_by="x",
    created_at=0.0,
    phase="Pending",
    phase_since=1.0,
    pod=PodRequest(gpus=1),
    pods=1,
    priority=50,
    priority_class="train",
    preemptible=True,
    node_pools=(),
    placement=(),
)


def test_phase_reason_comes_from_the_code_whatever_the_words() -> None:
    reworded = Reason("Your project is full", ReasonCode.OVER_LIMIT)
    assert phase_reason(
        dataclasses.replace(FACTS, pending_reason=reworded, pending_codes=reworded.codes)
    ) == ("OverLimit")
    # The old words without their code name nothing.
    words = messages.over_limit("Project team-a", "gpu", 8, 8, 1)
    assert phase_reason(dataclasses.replace(FACTS, pending_reason=str(words))) is None


def test_the_scheduler_words_carry_their_codes_through_a_join() -> None:
    over = messages.non_preemptible_over_quota("Project team-a", "gpu", 1, 4, 4)
    joined = Reason.joined([messages.no_fit("default", {}), over])
    assert joined == f"Resources were not found for pod due to: node pool default has no nodes; {over}"
    assert joined.codes == (ReasonCode.NO_FIT, ReasonCode.NON_PREEMPTIBLE_OVER_QUOTA)
    assert over.params["deserved"] == 4
    facts = dataclasses.replace(FACTS, pending_reason=joined, pending_codes=joined.codes)
    assert phase_reason(facts) == "NonPreemptibleOverQuota"


def test_event_reasons_and_preemption_conditions_read_codes() -> None:
    taken = Event(1, 5.0, EventKind.PHASE, "w", "Terminating", "moved elsewhere", (ReasonCode.RECLAIMED,))
    assert _phase_reason(taken) == ("Warning", "Preempted", "runai-scheduler")
    worded = Event(2, 5.0, EventKind.PHASE, "w", "Terminating", "Pod was preempted by someone")
    assert _phase_reason(worded) == ("Normal", "Terminating", "workload-controller")
    placed = Event(3, 6.0, EventKind.PHASE, "w", "Initializing", "on node-1", (ReasonCode.SCHEDULED,))
    assert _phase_reason(placed)[1] == "Scheduled"
    history = (
        PhaseChange(5.0, Phase.TERMINATING, "moved elsewhere", (ReasonCode.PREEMPTED,)),
        PhaseChange(6.0, Phase.PENDING, "x"),
    )
    shown = conditions(dataclasses.replace(FACTS, history=history))
    assert [c["type"] for c in shown] == ["Pending", "DisruptionTarget"]

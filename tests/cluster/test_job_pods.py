"""JobPods keeps its active pods and their slots between pod events instead of recomputing them: whatever
the events, what it answers is what a fresh pass over its pods answers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.cluster import pods as pods_module
from mockserver.cluster.pods import JobPods, PodPhase

# (what, which): add a pod in slot `which`, or finish the `which`-th active pod, or bind it.
EVENTS = st.lists(
    st.tuples(st.sampled_from(["add", "fail", "succeed", "bind", "run", "ask"]), st.integers(0, 30)),
    max_size=120,
)


def fresh_view(job: JobPods) -> tuple[list[int], dict[int, int | None], bool, bool, int]:
    """The answers computed from scratch, as a job that kept nothing would give them."""
    active = [p for p in job.pods if p.active]
    slots = {slot: next((p.serial for p in active if p.slot == slot), None) for slot in range(8)}
    bound = bool(active) and all(p.phase is not PodPhase.PENDING for p in active)
    running = bool(active) and all(p.phase is PodPhase.RUNNING and p.reason is None for p in active)
    return [p.serial for p in active], slots, bound, running, len(job.pods) - len(active)


def kept_view(job: JobPods) -> tuple[list[int], dict[int, int | None], bool, bool, int]:
    slots = {}
    for slot in range(8):
        pod = job.by_slot(slot)
        slots[slot] = None if pod is None else pod.serial
    active = job.active()
    return [p.serial for p in active], slots, job.all_bound(), job.all_running(), len(job.pods) - len(active)


@given(EVENTS)
def test_kept_answers_are_a_fresh_pass_s_answers(events: list[tuple[str, int]]) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pods_module, "MAX_FINISHED_PODS", 3)  # the cap is reached within a few events
        job = JobPods(parallelism=8, completions=8)
        for what, which in events:
            active = job.active()
            if what == "add":
                job.new_pod(which % 8, float(len(job.pods)))
            elif what == "ask":
                job.by_slot(which % 8)  # an answer kept across the next event
            elif active:
                pod = active[which % len(active)]
                if what in ("fail", "succeed"):
                    pod.phase = PodPhase.FAILED if what == "fail" else PodPhase.SUCCEEDED
                    job.trim(pod)
                else:
                    pod.phase = PodPhase.STARTING if what == "bind" else PodPhase.RUNNING
            assert kept_view(job) == fresh_view(job)
            assert len(job.pods) - job.active_count() <= 3

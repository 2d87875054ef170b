"""Gang scheduling (docs/scheduler.md §4a) against the pure scheduler: all-or-nothing placement of a gang's
minimum across nodes, no holdings while waiting, KAI's reason, stale-gang eviction, elastic extras."""

from __future__ import annotations

from mockserver.cluster.reasons import ReasonCode
from mockserver.cluster.resources import PodRequest
from mockserver.cluster.scheduler import Job, Scheduler
from tests.cluster.test_scheduler_scenarios import allocated, cluster, gpu_quota, job

_seq = iter(range(10_000, 20_000))


def gang(
    job_id: str,
    project: str,
    workers: int,
    gpus: int = 1,
    *,
    min_workers: int | None = None,
    lead: PodRequest | None = None,
    priority: int = 50,
    preemptible: bool = True,
) -> Job:
    """A distributed training: a master (pod 0) and `workers` workers; the master and `min_workers`
    workers (all of them by default) form the gang's minimum."""
    return Job(
        id=job_id,
        project_id=project,
        pod=PodRequest(gpus=gpus),
        pods=workers + 1,
        priority=priority,
        preemptible=preemptible,
        seq=next(_seq),
        min_pods=1 + (workers if min_workers is None else min_workers),
        lead=lead,
    )


def holders(scheduler: Scheduler) -> set[str]:
    return {h for n in scheduler.snapshot()["nodes"] for d in n["devices"] for h in d["holders"]}


def test_a_gang_waits_whole_when_its_minimum_does_not_fit_and_holds_nothing() -> None:
    # 3 free GPUs on two nodes; the gang needs 4 (master + 3 workers): nothing of it starts.
    s = cluster([{"gpus": 2}, {"gpus": 2}], [{"id": "a", "quotas": gpu_quota(0)}])
    s.enqueue(job("busy", "a", 1))
    s.cycle()
    s.enqueue(gang("g", "a", 3))
    result = s.cycle()
    assert "g" not in result.started
    assert s.running_pods("g") == 0 and s.pods("g") == []
    assert "g" not in holders(s)
    assert allocated(s, "a") == 1  # the statement was undone: only "busy" is charged
    reason = s.pending_reason("g")
    assert reason is not None
    assert reason.startswith("Resources were found for 3 pods while 4 are required for gang scheduling.")
    assert "Additional pods cannot be scheduled due to: no nodes with enough resources" in reason
    assert ReasonCode.GANG in reason.codes and ReasonCode.NO_FIT in reason.codes  # type: ignore[attr-defined]
    # Once the busy pod leaves, the whole gang starts at once, across both nodes.
    s.release("busy")
    result = s.cycle()
    assert result.started == ["g"]
    assert s.running_pods("g") == 4
    assert {p.node for p in s.pods("g")} == {"n1", "n2"}
    assert s.pending_reason("g") is None


def test_a_gang_over_its_quota_limit_waits_with_the_limit_as_its_cause() -> None:
    s = cluster([{"gpus": 8}], [{"id": "a", "quotas": gpu_quota(0, limit=3)}])
    s.enqueue(gang("g", "a", 3))
    s.cycle()
    assert s.running_pods("g") == 0 and allocated(s, "a") == 0
    reason = s.pending_reason("g")
    assert reason is not None and "while 4 are required for gang scheduling" in reason
    assert "quota has reached the allowable limit of GPUs" in reason
    assert ReasonCode.OVER_LIMIT in reason.codes  # type: ignore[attr-defined]


def test_pods_of_independent_jobs_take_what_a_gang_cannot_use() -> None:
    # A waiting gang does not reserve anything: a later single-pod job fills the free GPUs.
    s = cluster([{"gpus": 2}, {"gpus": 1}], [{"id": "a", "quotas": gpu_quota(0)}])
    s.enqueue(gang("g", "a", 3))
    s.enqueue(job("small", "a", 1))
    result = s.cycle()
    assert result.started == ["small"]
    assert s.running_pods("g") == 0


def test_a_lead_with_its_own_request_is_placed_with_the_gang() -> None:
    # A CPU-only master and two 2-GPU workers: the master goes to the CPU node, the workers to the GPUs.
    s = cluster(
        [{"gpus": 2}, {"gpus": 2}, {"gpus": 0, "cpuMillis": 8000}],
        [{"id": "a", "quotas": gpu_quota(0)}],
    )
    s.enqueue(gang("g", "a", 2, gpus=2, lead=PodRequest(cpu_millis=1000)))
    assert s.cycle().started == ["g"]
    pods = {p.index: p for p in s.pods("g")}
    assert pods[0].node == "n3" and pods[0].devices == ()
    assert {pods[1].node, pods[2].node} == {"n1", "n2"}
    assert allocated(s, "a") == 4


def test_an_elastic_gang_starts_at_its_minimum_and_grows_when_room_frees() -> None:
    s = cluster([{"gpus": 4}], [{"id": "a", "quotas": gpu_quota(0)}])
    s.enqueue(job("busy", "a", 2))
    s.cycle()
    # master + up to 3 workers, at least 1: 2 GPUs free, so master + 1 worker start.
    s.enqueue(gang("g", "a", 3, min_workers=1))
    assert s.cycle().started == ["g"]
    assert s.running_pods("g") == 2 and s.requested_pods("g") == 4
    assert s.pending_reason("g") is not None  # its two extra workers wait
    s.release("busy")
    s.cycle()
    assert s.running_pods("g") == 4 and s.pending_reason("g") is None


def test_a_gang_losing_a_pod_below_its_minimum_is_evicted_whole() -> None:
    # Project b reclaims from a's preemptible gang: one victim pod takes the gang below its minimum, so
    # all of it is evicted (KAI's stale-gang eviction) and its devices are free.
    s = cluster(
        [{"gpus": 2}, {"gpus": 2}],
        [{"id": "a", "quotas": gpu_quota(0)}, {"id": "b", "quotas": gpu_quota(2)}],
    )
    s.enqueue(gang("g", "a", 3))
    assert s.cycle().started == ["g"]
    s.enqueue(job("b1", "b", 1, priority=50))
    result = s.cycle()
    assert result.started == ["b1"]
    [eviction] = result.evicted
    assert eviction.job_id == "g"
    assert "doesn't meet the minimum required number of pods (4)" in eviction.message
    codes = eviction.message.codes  # type: ignore[attr-defined]
    assert ReasonCode.RECLAIMED in codes and ReasonCode.STALE_GANG in codes
    assert s.running_pods("g") == 0 and "g" not in holders(s)
    assert allocated(s, "a") == 0 and allocated(s, "b") == 1
    # Back in the queue (as the lifecycle does after Terminating), the gang waits: 3 GPUs for 4 pods.
    s.enqueue(gang("g", "a", 3))
    s.cycle()
    assert s.running_pods("g") == 0


def test_an_elastic_gang_above_its_minimum_loses_only_its_extra_pod() -> None:
    s = cluster(
        [{"gpus": 4}],
        [{"id": "a", "quotas": gpu_quota(0)}, {"id": "b", "quotas": gpu_quota(1)}],
    )
    s.enqueue(gang("g", "a", 3, min_workers=1))
    s.cycle()
    assert s.running_pods("g") == 4
    s.enqueue(job("b1", "b", 1))
    result = s.cycle()
    assert result.evicted == [] and result.started == ["b1"]
    assert s.running_pods("g") == 3  # the newest worker went back to waiting; the gang runs on


def test_identical_waiting_gangs_cost_one_attempt_and_share_the_reason() -> None:
    s = cluster([{"gpus": 2}], [{"id": "a", "quotas": gpu_quota(0)}])
    for i in range(50):
        s.enqueue(gang(f"g{i}", "a", 3))
    result = s.cycle()
    assert result.started == [] and len(result.pending) == 50
    assert len(set(result.pending.values())) == 1
    # A second cycle with nothing changed decides nothing and reports nothing.
    again = s.cycle()
    assert again.started == [] and again.pending == {}


def test_a_higher_priority_gang_preempts_only_what_its_minimum_needs() -> None:
    # Four low-priority single-GPU trainings fill 4 GPUs; a gang of 3 one-GPU pods at a higher priority in
    # the same project evicts three of them (newest first) and starts whole in the same cycle.
    s = cluster([{"gpus": 2}, {"gpus": 2}], [{"id": "a", "quotas": gpu_quota(0)}])
    for i in range(4):
        s.enqueue(job(f"low{i}", "a", 1, priority=25))
    s.cycle()
    s.enqueue(gang("g", "a", 2, priority=75))
    result = s.cycle()
    assert result.started == ["g"] and s.running_pods("g") == 3
    assert sorted(e.job_id for e in result.evicted) == ["low1", "low2", "low3"]
    assert all("preempted by higher priority workload g" in e.message for e in result.evicted)
    assert s.running_pods("low0") == 1


def test_a_gang_within_its_deserved_quota_reclaims_from_an_over_quota_project() -> None:
    s = cluster(
        [{"gpus": 2}, {"gpus": 2}],
        [{"id": "a", "quotas": gpu_quota(0)}, {"id": "b", "quotas": gpu_quota(3)}],
    )
    for i in range(4):
        s.enqueue(job(f"a{i}", "a", 1))
    s.cycle()
    s.enqueue(gang("g", "b", 2))
    result = s.cycle()
    assert result.started == ["g"] and s.running_pods("g") == 3
    assert len(result.evicted) == 3 and all(e.job_id.startswith("a") for e in result.evicted)
    assert allocated(s, "a") == 1 and allocated(s, "b") == 3


def test_a_gang_that_eviction_cannot_complete_evicts_nobody() -> None:
    # The gang needs 5 GPUs; the cluster has 4. Preempting every low-priority pod would not do: nothing moves.
    s = cluster([{"gpus": 2}, {"gpus": 2}], [{"id": "a", "quotas": gpu_quota(0)}])
    for i in range(4):
        s.enqueue(job(f"low{i}", "a", 1, priority=25))
    s.cycle()
    s.enqueue(gang("g", "a", 4, priority=75))
    result = s.cycle()
    assert result.started == [] and result.evicted == []
    assert all(s.running_pods(f"low{i}") == 1 for i in range(4))
    assert "g" not in holders(s)

"""Virtual time that jumps: a repeating crash loop is computed, not stepped, and ends where stepping ends.

The differential tests run the same cluster twice — once with jumps, once stepping every cycle — and
compare everything a client can see: the workloads of every kind, their phase histories (with reason
codes) and the event log. Any kind that backs off after a crash loops and jumps (a workspace too).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from mockserver.cluster import cluster as cluster_module
from mockserver.cluster.clock import ManualClock
from mockserver.cluster.cluster import FakeCluster
from mockserver.cluster.errors import Conflict
from mockserver.cluster.jumps import Jumps
from mockserver.cluster.kinds import WORKSPACE
from mockserver.config import load_config
from mockserver.http.auth import Principal
from mockserver.parsing.compute import pod_request_from_compute
from mockserver.parsing.training import parse_training
from mockserver.parsing.workspace import parse_workspace
from mockserver.versions import VERSIONS

CONFIG = load_config()
ANYONE = Principal("tester", "tester@example.com", None)
YEAR = 365 * 24 * 3600


def submit(
    cluster: FakeCluster,
    name: str,
    *,
    pods: int = 1,
    seconds: int = 10,
    outcome: str = "Failed",
    backoff: int = 10000,
    gpus: int = 0,
    workspace: bool = False,
) -> str:
    compute = {"gpuDevicesRequest": gpus} if gpus else {"cpuCoreRequest": 0.001}
    body = {
        "name": name,
        "projectId": "1",
        "clusterId": CONFIG.topology.cluster_id,
        "spec": {
            "image": "busybox",
            "parallelism": pods,
            "completions": pods,
            "backoffLimit": backoff,
            "compute": compute,
            "annotations": [
                {"name": "mock.runai/duration", "value": str(seconds)},
                {"name": "mock.runai/outcome", "value": outcome},
            ],
        },
    }
    if workspace:
        del body["spec"]["parallelism"], body["spec"]["completions"]  # one pod, as the kind has
        parsed = parse_workspace(body, VERSIONS["2.18"])
        return cluster.submit(parsed.request, ANYONE, parsed.issues, WORKSPACE).workload_id
    parsed = parse_training(body, VERSIONS["2.18"])
    return cluster.submit(parsed.request, ANYONE, parsed.issues).workload_id


def seen(cluster: FakeCluster) -> dict[str, Any]:
    """What clients can see of the cluster (workloads of every kind, deleted ones, history, the event
    log), with the reason codes and parameters the views word their answers from."""

    def one(t: Any) -> tuple[Any, ...]:
        return (
            t.workload_id,
            t.actual_phase,
            t.desired_phase,
            t.restarts,
            t.phase_since,
            t.pending_reason,
            getattr(t.pending_reason, "codes", None),
            dict(getattr(t.pending_reason, "params", {})),
            t.phase_message,
            t.deleted_at,
            tuple(t.history),
        )

    return {
        "now": cluster.now(),
        "workloads": [one(t) for t in cluster.workloads()],
        "deleted": [one(t) for t in cluster.workloads(deleted=True)],
        "events": [
            (e.seq, e.time, e.kind, e.workload_id, e.phase, e.message, e.codes)
            for e in cluster.events_after(0, 10**9)
        ],
        "scheduler": cluster.scheduler_snapshot(),
    }


def scenario_single(cluster: FakeCluster) -> None:
    submit(cluster, "loop", pods=1, backoff=60)


def scenario_parallel_pods(cluster: FakeCluster) -> None:
    # Three pods fail together each cycle: Kubernetes counts each failed pod toward backoffLimit, so the
    # cycle moves the count by three and is stepped, not jumped (a jump copies one restart per cycle).
    submit(cluster, "loop", pods=3, backoff=60)


def scenario_with_neighbours(cluster: FakeCluster) -> None:
    submit(cluster, "steady", seconds=40000, outcome="Completed", gpus=1)  # its end bounds the jump
    submit(cluster, "loop", pods=1, backoff=400)
    submit(cluster, "too-big", gpus=8)  # pending for ever, re-judged every cycle


def scenario_two_loops(cluster: FakeCluster) -> None:
    submit(cluster, "loop-a", seconds=10, backoff=80)
    submit(cluster, "loop-b", seconds=25, backoff=90)


def scenario_workspace_beside_a_load(cluster: FakeCluster) -> None:
    pod = pod_request_from_compute({"cpuCoreRequest": 0.001})
    cluster.submit_load("holder", "1", pod, priority=50, preemptible=True, node_pools=[])
    submit(cluster, "notebook", seconds=15, backoff=300, workspace=True)


@pytest.mark.parametrize(
    "build",
    [
        scenario_single,
        scenario_parallel_pods,
        scenario_with_neighbours,
        scenario_two_loops,
        scenario_workspace_beside_a_load,
    ],
)
def test_a_jump_ends_where_stepping_ends(build: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    advances = [30, 900, 7200, 50000, 3600, 200000]

    def run(jumping: bool) -> tuple[dict[str, Any], int]:
        with monkeypatch.context() as patch:
            if not jumping:
                patch.setattr(Jumps, "backed_off", lambda *args: None)
            cluster = FakeCluster(CONFIG.topology, CONFIG.timing, ManualClock(), seed=4)
            build(cluster)
            views = []
            for seconds in advances:
                cluster.advance(seconds)
                views.append(seen(cluster))
            return {"views": views}, cluster._engine.jumps.jumped

    stepped, none = run(False)
    jumped, cycles = run(True)
    assert none == 0
    # Two loops never repeat in step, parallel pods fail several at a time: nothing to jump.
    assert cycles > 0 or build in (scenario_two_loops, scenario_parallel_pods)
    assert jumped == stepped


def test_a_year_of_a_crash_loop_is_arithmetic() -> None:
    cluster = FakeCluster(CONFIG.topology, CONFIG.timing, ManualClock(), seed=1)
    workload = submit(cluster, "loop", pods=1, backoff=500)
    cluster.advance(YEAR)
    engine = cluster._engine
    assert engine.jumps.jumped > 400  # nearly every cycle computed
    training = engine.deleted.get(workload) or engine.workloads.get(workload)
    # backoffLimit 500: it failed at its 501st crash, was deleted after its auto-deletion delay and purged
    # after the retention, all within the year.
    assert training is None
    failed = [e for e in cluster.events_after(0, 10**9) if e.workload_id == workload and e.phase == "Failed"]
    assert len(failed) == 1 and "backoffLimit 500 reached" in failed[0].message
    crashes = [
        e for e in cluster.events_after(0, 10**9) if "container exited with an error; restart" in e.message
    ]
    assert crashes[-1].message.endswith("restart 500 of 500")
    assert cluster.now() == ManualClock().now() + YEAR


def test_a_thousand_pods_failing_together_pass_the_backoff_limit_at_once() -> None:
    # Kubernetes counts failed pods: a thousand pods that fail together are a thousand failures, so a
    # backoffLimit of 500 is passed by the first wave (there is no loop left to jump).
    cluster = FakeCluster(CONFIG.topology, CONFIG.timing, ManualClock(), seed=1)
    workload = submit(cluster, "wave", pods=1000, backoff=500)
    cluster.advance(60)
    training = cluster._engine.workloads[workload]
    assert training.actual_phase.value == "Failed"
    assert "BackoffLimitExceeded" in (training.phase_message or "")
    assert training.job.failed == 501  # the 501st failed pod passed the limit; the rest were deleted


def test_an_advance_lets_others_in_and_stops_with_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """Between slices of a long advance the lock is free; a stopping server ends the advance."""
    monkeypatch.setattr(Jumps, "backed_off", lambda *args: None)  # step every cycle: a long advance
    cluster = FakeCluster(CONFIG.topology, CONFIG.timing, ManualClock(), seed=2)
    for i in range(3):
        submit(cluster, f"loop-{i}", pods=200, backoff=10000)
    outcome: list[Any] = []
    worker = threading.Thread(target=lambda: outcome.append(_attempt(cluster.advance, YEAR)))
    worker.start()
    reads = 0
    while reads < 5 and worker.is_alive():
        cluster.now()  # a reader gets the lock between slices
        reads += 1
        time.sleep(0.01)
    assert reads == 5 and worker.is_alive()
    monkeypatch.setattr(cluster_module, "_stopping", threading.Event())
    cluster_module._stopping.set()
    worker.join(10)
    assert not worker.is_alive()
    assert isinstance(outcome[0], Conflict) and "stopping" in str(outcome[0])
    assert 0 < cluster.now() - ManualClock().now() < YEAR  # the clock is where the work got to


def _attempt(call: Any, *args: Any) -> Any:
    try:
        return call(*args)
    except Conflict as error:
        return error

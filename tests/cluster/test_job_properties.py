"""A property of the Job controller across random workloads on the whole fake cluster (no HTTP): at every
second, running pods ≤ parallelism, succeeded ≤ completions, failed pods ≤ backoffLimit + 1 unless the
workload has Failed, and devices are held only by pods that are bound (docs/fidelity.md, "Jobs")."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.cluster.clock import ManualClock
from mockserver.cluster.cluster import FakeCluster
from mockserver.cluster.phases import HOLDING, Phase
from mockserver.cluster.pods import PodPhase
from mockserver.config import load_config
from mockserver.http.auth import Principal
from mockserver.parsing.training import parse_training
from mockserver.versions import VERSIONS

CONFIG = load_config()
ANYONE = Principal("tester", "tester@example.com", None)
LATEST = VERSIONS["latest"]

workloads = st.lists(
    st.fixed_dictionaries(
        {
            "parallelism": st.integers(1, 4),
            "completions": st.integers(1, 6),
            "backoffLimit": st.integers(0, 3),
            "seconds": st.integers(0, 6),
            "exit": st.sampled_from([0, 0, 1]),
            "restartPolicy": st.sampled_from(["Never", "OnFailure"]),
            "gpus": st.sampled_from([0, 1, 2]),
        }
    ),
    min_size=1,
    max_size=5,
)


def _submit(cluster: FakeCluster, index: int, spec: dict[str, Any]) -> str:
    compute = {"gpuDevicesRequest": spec["gpus"]} if spec["gpus"] else {"cpuCoreRequest": 0.1}
    body = {
        "name": f"job-{index}",
        "projectId": "1",
        "clusterId": CONFIG.topology.cluster_id,
        "spec": {
            "image": "busybox",
            "command": f"sleep {spec['seconds']}; exit {spec['exit']}",
            "parallelism": spec["parallelism"],
            "completions": spec["completions"],
            "backoffLimit": spec["backoffLimit"],
            "restartPolicy": spec["restartPolicy"],
            "compute": compute,
        },
    }
    parsed = parse_training(body, LATEST)
    assert not parsed.issues
    return cluster.submit(parsed.request, ANYONE, parsed.issues).workload_id


# (second, workload index, action): clients and the control API acting meanwhile.
actions = st.lists(
    st.tuples(
        st.integers(0, 149),
        st.integers(0, 4),
        st.sampled_from(["suspend", "resume", "delete", "Preempted", "ContainerFailure"]),
    ),
    max_size=6,
)


def _act(cluster: FakeCluster, workload_id: str, action: str) -> None:
    workload = cluster._engine.workloads.get(workload_id)
    if workload is None:
        return
    if action == "suspend":
        cluster.suspend(workload_id, ANYONE)
    elif action == "resume":
        cluster.resume(workload_id, ANYONE)
    elif action == "delete":
        cluster.delete(workload_id, ANYONE)
    elif workload.actual_phase in HOLDING:  # the control API's forced outcomes need a holding phase
        cluster.force_outcome(workload_id, action)


@settings(max_examples=60, deadline=None)
@given(workloads, actions)
def test_job_invariants_hold_every_second(
    specs: list[dict[str, Any]], acts: list[tuple[int, int, str]]
) -> None:
    cluster = FakeCluster(CONFIG.topology, CONFIG.timing, ManualClock(), seed=3)
    ids = [_submit(cluster, i, spec) for i, spec in enumerate(specs)]
    for second in range(150):
        for at, index, action in acts:
            if at == second and index < len(ids):
                _act(cluster, ids[index], action)
        cluster.advance(1)
        engine = cluster._engine
        for workload_id, spec in zip(ids, specs, strict=True):
            workload = engine.workloads.get(workload_id)
            if workload is None:
                continue
            job = workload.job
            running = [p for p in job.pods if p.phase is PodPhase.RUNNING]
            assert len(running) <= spec["parallelism"]
            assert len(job.active()) <= spec["parallelism"]
            assert job.succeeded <= spec["completions"]
            assert sum(p.phase is PodPhase.SUCCEEDED for p in job.pods) == job.succeeded
            if workload.actual_phase is not Phase.FAILED:
                assert job.failed <= spec["backoffLimit"] + 1
                assert sum(p.phase is PodPhase.FAILED for p in job.pods) <= spec["backoffLimit"] + 1
            # Completed exactly when `completions` pods have succeeded (never stuck short of it); a
            # suspended or deleted workload may stop with all of them done (its last pod raced the action).
            if workload.actual_phase not in (Phase.STOPPING, Phase.STOPPED, Phase.RESUMING, Phase.DELETING):
                assert (workload.actual_phase is Phase.COMPLETED) == (job.succeeded == spec["completions"])
            # Devices: exactly the bound pods (starting or running) hold a place in the scheduler.
            held = {p.index for p in engine.scheduler.pods(workload_id)}
            bound = {p.slot for p in job.active() if p.phase is not PodPhase.PENDING}
            assert held == bound, (workload.actual_phase, job.pods)

"""A property of the Job controller across random workloads on the whole fake cluster (no HTTP): at every
second, running pods ≤ parallelism, succeeded ≤ completions, failed pods ≤ backoffLimit + 1 unless the
workload has Failed, and devices are held only by pods that are bound (docs/fidelity.md, "Jobs")."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.cluster.clock import ManualClock
from mockserver.cluster.cluster import FakeCluster
from mockserver.cluster.phases import Phase
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


@settings(max_examples=40, deadline=None)
@given(workloads)
def test_job_invariants_hold_every_second(specs: list[dict[str, Any]]) -> None:
    cluster = FakeCluster(CONFIG.topology, CONFIG.timing, ManualClock(), seed=3)
    ids = [_submit(cluster, i, spec) for i, spec in enumerate(specs)]
    for _ in range(150):
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
            # Completed exactly when `completions` pods have succeeded (never stuck short of it).
            assert (workload.actual_phase is Phase.COMPLETED) == (job.succeeded == spec["completions"])
            # Devices: exactly the bound pods (starting or running) hold a place in the scheduler.
            held = {p.index for p in engine.scheduler.pods(workload_id)}
            bound = {p.slot for p in job.active() if p.phase is not PodPhase.PENDING}
            assert held == bound, (workload.actual_phase, job.pods)

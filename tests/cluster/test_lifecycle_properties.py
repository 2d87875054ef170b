"""Hypothesis over random action sequences on the whole fake cluster (lifecycle + scheduler, no HTTP)."""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from mockserver.cluster.clock import ManualClock
from mockserver.cluster.cluster import FakeCluster
from mockserver.cluster.errors import Conflict
from mockserver.config import load_config
from mockserver.http.auth import Principal
from mockserver.parsing.compute import pod_request_from_compute
from mockserver.parsing.training import parse_training
from mockserver.versions import VERSIONS
from mockserver.views.control import snapshot_view

CONFIG = load_config()
CLUSTER_ID = CONFIG.topology.cluster_id
ANYONE = Principal("tester", "tester@example.com", None)
HOLDING = {"Initializing", "Running"}
LEGAL = {
    "Creating": {"Pending", "Stopping", "Deleting", "Failed"},
    "Pending": {"Initializing", "Stopping", "Deleting", "Failed"},
    # A crashed pod frees its devices and its replacement waits in Pending (back-off, then the scheduler).
    "Initializing": {"Running", "Pending", "Terminating", "Stopping", "Deleting", "Failed"},
    "Running": {"Completed", "Failed", "Pending", "Terminating", "Stopping", "Deleting"},
    "Terminating": {"Pending", "Stopping", "Deleting", "Failed"},
    "Stopping": {"Stopped", "Resuming", "Deleting"},
    "Stopped": {"Resuming", "Deleting"},
    "Resuming": {"Pending", "Stopping", "Deleting", "Failed"},
    "Completed": {"Deleting"},
    "Failed": {"Deleting"},
    "Deleting": set(),
}
computes = st.sampled_from(
    [
        {"gpuDevicesRequest": 1},
        {"gpuDevicesRequest": 2},
        {"gpuDevicesRequest": 4},
        {"gpuRequestType": "portion", "gpuPortionRequest": 0.5},
        {"gpuRequestType": "portion", "gpuPortionRequest": 0.3, "gpuDevicesRequest": 2},
        {"gpuRequestType": "memory", "gpuMemoryRequest": "20Gi"},
        {"gpuRequestType": "migProfile", "migProfile": "1g.5gb"},
        {"cpuCoreRequest": 2},
    ]
)


def _submit(cluster: FakeCluster, body: dict) -> str:
    parsed = parse_training(body, VERSIONS["2.18"])
    return cluster.submit(parsed.request, ANYONE, parsed.issues).workload_id


def _body(
    name: str,
    project: str,
    compute: dict,
    priority: str,
    pools: list[str],
    duration: int,
    outcome: str,
    terminate: bool,
) -> dict:
    annotations = [
        {"name": "mock.runai/duration", "value": str(duration)},
        {"name": "mock.runai/outcome", "value": outcome},
    ]
    spec = {
        "image": "busybox",
        "compute": compute,
        "priorityClass": priority,
        "backoffLimit": 1,
        "annotations": annotations,
        "terminateAfterPreemption": terminate,
        "autoDeletionTimeAfterCompletionSeconds": 30,
    }
    if pools:
        spec["nodePools"] = pools
    return {
        "name": name,
        "projectId": project,
        "clusterId": CLUSTER_ID,
        "useGivenNameAsPrefix": True,
        "spec": spec,
    }


class ClusterMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.cluster = FakeCluster(CONFIG.topology, CONFIG.timing, ManualClock(), seed=5)
        self.ids: list[str] = []
        self.loads: list[str] = []

    @rule(
        project=st.sampled_from(["1", "3", "4"]),
        compute=computes,
        priority=st.sampled_from(["train", "train", "interactive-preemptible", "build"]),
        pools=st.sampled_from([[], ["default"], ["my-node-pool-b", "default"]]),
        duration=st.integers(1, 30),
        outcome=st.sampled_from(["Completed", "Completed", "Failed"]),
        terminate=st.booleans(),
    )
    def submit(self, project, compute, priority, pools, duration, outcome, terminate):
        body = _body("prop", project, compute, priority, pools, duration, outcome, terminate)
        self.ids.append(_submit(self.cluster, body))

    @precondition(lambda self: self.ids)
    @rule(data=st.data(), action=st.sampled_from(["suspend", "resume", "delete"]))
    def act(self, data, action):
        workload = data.draw(st.sampled_from(self.ids))
        try:
            getattr(self.cluster, action)(workload, ANYONE)
        except Exception as error:  # a training may be gone already (auto-deletion, earlier delete)
            assert type(error).__name__ == "NotFound", error

    @precondition(lambda self: self.ids)
    @rule(data=st.data(), outcome=st.sampled_from(["Completed", "Failed", "ContainerFailure", "Preempted"]))
    def force(self, data, outcome):
        try:
            self.cluster.force_outcome(data.draw(st.sampled_from(self.ids)), outcome)
        except Conflict:
            pass
        except Exception as error:
            assert type(error).__name__ == "NotFound", error

    @rule(gpus=st.integers(1, 4), priority=st.sampled_from([50, 100, 125]), preemptible=st.booleans())
    def add_load(self, gpus, priority, preemptible):
        pod = pod_request_from_compute({"gpuDevicesRequest": gpus})
        load = self.cluster.submit_load("load", "1", pod, priority, preemptible, ["default"])
        self.loads.append(load.workload_id)

    @precondition(lambda self: self.loads)
    @rule(data=st.data())
    def remove_load(self, data):
        load = data.draw(st.sampled_from(self.loads))
        self.loads.remove(load)
        self.cluster.remove_load(load)

    @rule(seconds=st.sampled_from([0, 1, 1, 2, 5, 40]))
    def advance(self, seconds):
        self.cluster.advance(seconds)

    @invariant()
    def resources_follow_phases(self):
        snapshot = snapshot_view(self.cluster)
        placed = {job["id"] for job in snapshot["jobs"] if job["pods"]}
        for training in snapshot["trainings"]:
            holds = training["workloadId"] in placed
            assert holds == (training["actualPhase"] in HOLDING), training
            if training["desiredPhase"] == "Stopped" and training["actualPhase"] in ("Stopping", "Stopped"):
                assert not holds
        for node in snapshot["nodes"]:
            for device in node["devices"]:
                assert device["allocated"] <= 1.0 + 1e-9, node["name"]

    @invariant()
    def transitions_are_legal(self):
        history: dict[str, list[str]] = defaultdict(list)
        for event in self.cluster.events_after(0, limit=100_000):
            if event.kind == "phase":
                history[event.workload_id].append(event.phase)
        for workload, phases in history.items():
            assert phases[0] == "Creating", (workload, phases)
            for before, after in pairwise(phases):
                assert after in LEGAL[before], (workload, phases)


TestClusterMachine = ClusterMachine.TestCase
TestClusterMachine.settings = settings(
    max_examples=60, stateful_step_count=25, deadline=None, derandomize=True, database=None
)


def test_same_actions_same_history():
    def run() -> list:
        cluster = FakeCluster(CONFIG.topology, CONFIG.timing, ManualClock(), seed=9)
        ids = [
            _submit(cluster, _body("d", p, {"gpuDevicesRequest": 4}, "train", [], 20, "Completed", False))
            for p in ("3", "3", "1", "1", "4")
        ]
        cluster.advance(3)
        cluster.suspend(ids[0], ANYONE)
        cluster.advance(30)
        return [(e.seq, e.time, e.kind, e.workload_id, e.phase, e.message) for e in cluster.events_after(0)]

    assert run() == run()

"""Distributed trainings (`/api/v1/workloads/distributed`) on every served version: each version's codes,
the master and workers with their roles and names, gang scheduling seen through the API, elastic
PyTorch, frameworks per version, suspend/resume only where the version has them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mockserver.app import create_app
from mockserver.cluster.kinds import DISTRIBUTED as DISTRIBUTED_KIND
from mockserver.cluster.kinds import INFERENCE, TRAINING, WORKSPACE, RequestedPods
from mockserver.config import load_config
from mockserver.versions import VERSIONS
from tests.conftest import CLUSTER_ID, Api, get_token

DISTRIBUTED = "/api/v1/workloads/distributed"
CONTROL = "/api/mock/v1"


class Distributed(Api):
    def create(self, body: dict[str, Any]) -> Any:
        return self.client.post(DISTRIBUTED, json=body, headers=self.headers)

    def get(self, workload_id: str) -> Any:
        return self.client.get(f"{DISTRIBUTED}/{workload_id}", headers=self.headers)

    def action(self, workload_id: str, verb: str) -> Any:
        return self.client.post(f"{DISTRIBUTED}/{workload_id}/{verb}", headers=self.headers)

    def delete(self, workload_id: str) -> Any:
        return self.client.delete(f"{DISTRIBUTED}/{workload_id}", headers=self.headers)

    def workload(self, workload_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.client.get(
            f"/api/v1/workloads/{workload_id}", headers=self.headers
        ).json()
        return answer

    def pods(self, workload_id: str) -> list[dict[str, Any]]:
        answer = self.client.get(f"/api/v1/workloads/{workload_id}/pods", headers=self.headers).json()
        pods: list[dict[str, Any]] = answer["pods"]
        return pods

    def job(self, workload_id: str) -> dict[str, Any]:
        found = self.job_or_none(workload_id)
        assert found is not None, f"{workload_id} is not in the scheduler"
        return found

    def job_or_none(self, workload_id: str) -> dict[str, Any] | None:
        jobs = self.client.get(f"{CONTROL}/snapshot").json()["jobs"]
        return next((job for job in jobs if job["id"] == workload_id), None)


@pytest.fixture(params=sorted(VERSIONS))
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, Distributed]]:
    with create_app(load_config(), api=request.param).test_client() as client:
        yield request.param, Distributed(client, {"Authorization": f"Bearer {get_token(client)}"})


def distributed(name: str = "dist-a", project: str = "1", gpus: int = 1, **spec: Any) -> dict[str, Any]:
    body_spec = {"image": "nvcr.io/nvidia/nemo", "compute": {"gpuDevicesRequest": gpus}, **spec}
    return {"name": name, "projectId": project, "clusterId": CLUSTER_ID, "spec": body_spec}


def test_create_answers_each_versions_code_and_runs_master_and_workers(served):
    api, dist = served
    created = dist.create(distributed(numWorkers=2, distributedFramework="PyTorch"))
    assert created.status_code == VERSIONS[api].create_status
    body = created.json()
    assert body["actualPhase"] == "Creating" and body["masterSpecSameAsWorker"] is True
    assert body["spec"]["numWorkers"] == 2
    workload_id = body["workloadId"]
    dist.advance(5)
    assert dist.get(workload_id).json()["actualPhase"] == "Running"
    workload = dist.workload(workload_id)
    assert workload["type"] == "Distributed" and workload["phase"] == "Running"
    pods = dist.pods(workload_id)
    assert [p["name"] for p in pods] == ["dist-a-master-0", "dist-a-worker-0", "dist-a-worker-1"]
    assert all(p["k8sPhase"] == "Running" and p["nodeName"] for p in pods)
    assert dist.job(workload_id)["runningPods"] == 3


def test_a_gang_that_does_not_fit_waits_whole_with_kais_reason(served):
    _, dist = served
    # The default pool has 4 + 4 GPUs on whole-GPU nodes: 3 pods of 3 GPUs cannot all be placed.
    workload_id = dist.create(distributed(gpus=3, numWorkers=2, nodePools=["default"])).json()["workloadId"]
    dist.advance(10)
    assert dist.get(workload_id).json()["actualPhase"] == "Pending"
    job = dist.job(workload_id)
    assert job["runningPods"] == 0 and job["pods"] == []
    assert "are required for gang scheduling" in job["pendingReason"]
    assert all(p["nodeName"] is None for p in dist.pods(workload_id))


def test_elastic_pytorch_starts_at_min_replicas(served):
    _, dist = served
    # 8 GPUs in the default whole-GPU nodes: master + 3 workers of 2 GPUs cannot all run; master + 2 can.
    body = distributed(
        gpus=2,
        numWorkers=4,
        minReplicas=2,
        maxReplicas=4,
        distributedFramework="PyTorch",
        nodePools=["default"],
    )
    workload_id = dist.create(body).json()["workloadId"]
    dist.advance(10)
    assert dist.get(workload_id).json()["actualPhase"] == "Running"
    job = dist.job(workload_id)
    assert job["requestedPods"] == 5 and 3 <= job["runningPods"] < 5


def test_a_master_spec_gives_the_master_its_own_request(served):
    _, dist = served
    body = distributed(gpus=2, numWorkers=2)
    body["masterSpec"] = {"compute": {"cpuCoreRequest": 1}}
    body["masterSpecSameAsWorker"] = False
    created = dist.create(body).json()
    assert (
        created["masterSpecSameAsWorker"] is False and created["masterSpec"]["compute"]["cpuCoreRequest"] == 1
    )
    dist.advance(10)
    placed = dist.job(created["workloadId"])["pods"]
    assert len(placed) == 3
    assert sorted(len(p["devices"]) for p in placed) == [0, 2, 2]
    pods = {p["name"]: p for p in dist.pods(created["workloadId"])}
    master, worker = pods["dist-a-master-0"], pods["dist-a-worker-0"]
    assert (
        master["requestedResources"]["gpu"]["request"] == 0
        and master["requestedResources"]["cpu"]["request"] == 1
    )
    assert worker["requestedResources"]["gpu"]["request"] == 2


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"numWorkers": 2, "minReplicas": 3, "maxReplicas": 4}, "spec.numWorkers"),
        ({"numWorkers": 2, "minReplicas": 2, "maxReplicas": 1}, "spec.maxReplicas"),
        ({"numWorkers": 2, "minReplicas": 1, "distributedFramework": "TF"}, "spec.minReplicas"),
    ],
)
def test_bad_replica_bounds_are_refused(served, spec, field):
    _, dist = served
    answer = dist.create(distributed(**spec))
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == 400 and field in body["message"]


def test_both_master_spec_and_same_as_worker_is_refused(served):
    _, dist = served
    body = distributed(numWorkers=1)
    body["masterSpec"] = {"compute": {"cpuCoreRequest": 1}}
    body["masterSpecSameAsWorker"] = True
    answer = dist.create(body)
    assert answer.status_code == 400 and "masterSpec" in answer.json()["message"]


def test_frameworks_follow_each_versions_enum(served):
    api, dist = served
    from mockserver.specs import load_spec

    enum = load_spec(VERSIONS[api].spec)["components"]["schemas"]["DistributedFramework"]["enum"]
    for framework in ("MPI", "PyTorch", "TF", "XGBoost", "JAX"):
        answer = dist.create(
            distributed(name=f"f-{framework.lower()}", numWorkers=1, distributedFramework=framework)
        )
        expected = VERSIONS[api].create_status if framework in enum else 400
        assert answer.status_code == expected, (framework, answer.json())
    assert ("JAX" in enum) == (api not in ("2.18", "2.19", "2.20"))


def test_suspend_and_resume_exist_where_the_version_has_them(served):
    api, dist = served
    workload_id = dist.create(distributed(numWorkers=1)).json()["workloadId"]
    dist.advance(5)
    has_actions = "suspend" in VERSIONS[api].actions["distributed"]
    answer = dist.action(workload_id, "suspend")
    if not has_actions:
        assert answer.status_code in (404, 405) and "code" in answer.json()
        assert dist.get(workload_id).json()["actualPhase"] == "Running"
        return
    assert answer.status_code == 202
    dist.advance(5)
    assert dist.get(workload_id).json()["actualPhase"] == "Stopped"
    assert dist.job_or_none(workload_id) is None
    assert dist.action(workload_id, "resume").status_code == 202
    dist.advance(10)
    assert dist.get(workload_id).json()["actualPhase"] == "Running"


def test_delete_answers_each_versions_code(served):
    api, dist = served
    workload_id = dist.create(distributed(numWorkers=1)).json()["workloadId"]
    dist.advance(5)
    answer = dist.delete(workload_id)
    assert answer.status_code == VERSIONS[api].delete_status
    dist.advance(30)
    assert dist.get(workload_id).status_code == 404


def test_kinds_stay_apart(served):
    _, dist = served
    workload_id = dist.create(distributed(numWorkers=1)).json()["workloadId"]
    assert (
        dist.client.get(f"/api/v1/workloads/trainings/{workload_id}", headers=dist.headers).status_code == 404
    )
    assert dist.get("00000000-0000-4000-8000-000000000000").status_code == 404


def test_the_workloads_api_shows_distributed_trainings(served):
    api, dist = served
    workload_id = dist.create(distributed(numWorkers=2)).json()["workloadId"]
    dist.client.post("/api/v1/workloads/trainings", json=_training_body(), headers=dist.headers)
    dist.advance(5)
    listed = dist.client.get(
        "/api/v1/workloads", params={"filterBy": "type==Distributed"}, headers=dist.headers
    ).json()["workloads"]
    assert [w["id"] for w in listed] == [workload_id]
    shown = listed[0]
    assert shown["requestedPods"]["number"] == 3 and shown["runningPods"] == 3
    assert shown["allocatedResources"]["gpu"] == 3 and shown["distributedFramework"] == "PyTorch"
    assert shown["actionsSupport"]["suspend"] == ("suspend" in VERSIONS[api].actions["distributed"])
    for view in ("events", "history"):
        answer = dist.client.get(f"/api/v1/workloads/{workload_id}/{view}", headers=dist.headers)
        assert answer.status_code == 200 and "Running" in answer.text


def _training_body() -> dict[str, Any]:
    return {"name": "plain", "projectId": "1", "clusterId": CLUSTER_ID, "spec": {"image": "busybox"}}


# Views of counts and sums: the oldest and the newest document are enough (no version row changes them;
# the table lists versions oldest first).
EDGES = (next(iter(VERSIONS)), list(VERSIONS)[-1])


@pytest.fixture(params=EDGES)
def edge(request: pytest.FixtureRequest) -> Iterator[Distributed]:
    with create_app(load_config(), api=request.param).test_client() as client:
        yield Distributed(client, {"Authorization": f"Bearer {get_token(client)}"})


def test_requested_pods_of_every_kind_follow_its_counts():
    assert TRAINING.requested_pods(3, completions=5) == RequestedPods(3, parallelism=3, completions=5)
    assert TRAINING.requested_pods(2) == RequestedPods(2, parallelism=2, completions=2)
    assert WORKSPACE.requested_pods(1) == RequestedPods(1)
    # A master plus the workers; the bounds count the master with elastic PyTorch's worker bounds.
    assert DISTRIBUTED_KIND.requested_pods(4, minimum=2, maximum=6) == RequestedPods(5, min=3, max=7)
    assert DISTRIBUTED_KIND.requested_pods(2) == RequestedPods(3, min=3, max=3)
    # Autoscaling bounds as asked: scale to zero shows 0 while one replica runs.
    assert INFERENCE.requested_pods(1, minimum=0, maximum=3) == RequestedPods(1, min=0, max=3)
    assert INFERENCE.requested_pods(2) == RequestedPods(2, min=2, max=2)


def test_requested_pods_show_master_and_elastic_worker_bounds(edge):
    elastic = distributed(
        "elastic", numWorkers=3, minReplicas=2, maxReplicas=5, distributedFramework="PyTorch"
    )
    fixed = distributed("fixed", numWorkers=2)
    shown = [
        edge.workload(edge.create(body).json()["workloadId"])["requestedPods"] for body in (elastic, fixed)
    ]
    assert shown[0] == {"number": 4, "min": 3, "max": 6, "parallelism": None, "completions": None}
    assert shown[1] == {"number": 3, "min": 3, "max": 3, "parallelism": None, "completions": None}


def _compute(gpus: int, cpus: float) -> dict[str, Any]:
    return {"gpuDevicesRequest": gpus, "cpuCoreRequest": cpus}


@pytest.mark.parametrize("master", ["own", "same", "unsaid"])
def test_requested_resources_count_the_master_with_its_own_spec_or_the_workers(edge, master):
    body = distributed(numWorkers=2, compute=_compute(2, 2))
    if master == "own":
        body["masterSpec"], body["masterSpecSameAsWorker"] = {"compute": _compute(0, 1)}, False
    elif master == "same":
        body["masterSpecSameAsWorker"] = True
    workload_id = edge.create(body).json()["workloadId"]
    gpus, cpus = (4.0, 5.0) if master == "own" else (6.0, 6.0)
    shown = edge.workload(workload_id)
    asked = shown["workloadRequestedResources"]
    assert (asked["gpu"]["request"], asked["cpu"]["request"]) == (gpus, cpus)
    one = shown["podsRequestedResources"]  # one worker's request
    assert (one["gpu"]["request"], one["cpu"]["request"]) == (2.0, 2.0)
    assert shown["allocatedResources"]["gpu"] == 0 and shown["allocatedResources"]["cpu"] == 0
    edge.advance(10)
    held = edge.workload(workload_id)
    assert held["phase"] == "Running"
    assert (held["allocatedResources"]["gpu"], held["allocatedResources"]["cpu"]) == (gpus, cpus)

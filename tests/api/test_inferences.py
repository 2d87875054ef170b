"""Inferences (`/api/v1/workloads/inferences`): each version's statuses from the versions table, replicas
from `autoscaling`, serving until deleted at the non-preemptible inference priority, and PATCH (where the
version's document has it) rolling the new spec out through `Updating` back to `Running`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from contracts.oracle import phases as harness
from mockserver.app import create_app
from mockserver.cluster.kinds.inference import TRANSITIONS
from mockserver.cluster.lifecycle import Trigger
from mockserver.cluster.priorities import PRIORITY_CLASSES
from mockserver.config import load_config
from mockserver.versions import VERSIONS
from tests.conftest import CLUSTER_ID, Api, get_token

INFERENCES = "/api/v1/workloads/inferences"
CONTROL = "/api/mock/v1"


class Inferences(Api):
    def create(self, body: dict[str, Any]) -> Any:
        return self.client.post(INFERENCES, json=body, headers=self.headers)

    def get(self, workload_id: str) -> Any:
        return self.client.get(f"{INFERENCES}/{workload_id}", headers=self.headers)

    def patch(self, workload_id: str, spec: dict[str, Any]) -> Any:
        return self.client.patch(f"{INFERENCES}/{workload_id}", json={"spec": spec}, headers=self.headers)

    def delete(self, workload_id: str) -> Any:
        return self.client.delete(f"{INFERENCES}/{workload_id}", headers=self.headers)

    def workload(self, workload_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.client.get(
            f"/api/v1/workloads/{workload_id}", headers=self.headers
        ).json()
        return answer

    def job(self, workload_id: str) -> dict[str, Any]:
        jobs = self.client.get(f"{CONTROL}/snapshot").json()["jobs"]
        return next(job for job in jobs if job["id"] == workload_id)


@pytest.fixture(params=sorted(VERSIONS))
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, Inferences]]:
    with create_app(load_config(), api=request.param).test_client() as client:
        yield request.param, Inferences(client, {"Authorization": f"Bearer {get_token(client)}"})


def inference(name: str = "serve-a", project: str = "1", **spec: Any) -> dict[str, Any]:
    return {
        "name": name,
        "projectId": project,
        "clusterId": CLUSTER_ID,
        "spec": {
            "image": "vllm/vllm-openai:latest",
            "compute": {"gpuDevicesRequest": 1},
            "servingPort": {"container": 8000},
            **spec,
        },
    }


def test_create_get_delete_answer_each_versions_statuses(served):
    api, inferences = served
    row = VERSIONS[api]
    created = inferences.create(inference())
    assert created.status_code == row.inference_create_status, created.text
    body = created.json()
    assert (
        body["name"] == "serve-a" and body["actualPhase"] == "Creating" and body["desiredPhase"] == "Running"
    )
    assert body["spec"]["servingPort"]["container"] == 8000
    workload_id = body["workloadId"]
    assert inferences.get(workload_id).json()["workloadId"] == workload_id
    deleted = inferences.delete(workload_id)
    assert deleted.status_code == row.delete_status
    inferences.advance(5)
    assert inferences.get(workload_id).status_code == 404


def test_statuses_follow_the_official_documents():
    # The table's columns against each version's official answers (2.20 moved create to 202 before the
    # other kinds; PATCH came in 2.19 with 200 and answers 202 from 2.22).
    expected = {
        "2.18": (200, None),
        "2.19": (200, 200),
        "2.20": (202, 200),
        "2.21": (202, 200),
        "2.22": (202, 202),
        "2.23": (202, 202),
        "2.24": (202, 202),
        "latest": (202, 202),
    }
    assert {n: (v.inference_create_status, v.inference_patch_status) for n, v in VERSIONS.items()} == expected


def test_an_inference_serves_until_deleted_at_the_inference_priority(served):
    api, inferences = served
    workload_id = inferences.create(inference()).json()["workloadId"]
    inferences.advance(10)
    assert inferences.phase(workload_id) == "Running"
    inferences.advance(1_000_000)  # a server has no end of its own
    assert inferences.phase(workload_id) == "Running"
    job = inferences.job(workload_id)
    deploy = VERSIONS[api].default_priority["Deploy"]
    assert deploy == ("inference" if api in ("2.18", "2.19", "2.20", "2.21") else "very-high")
    assert (job["priority"], job["preemptible"]) == (PRIORITY_CLASSES[deploy], False)
    shown = inferences.workload(workload_id)
    assert shown["type"] == "Inference" and shown["priorityClassName"] == deploy
    assert shown["actionsSupport"] == {"delete": True, "suspend": False}
    if VERSIONS[api].workload_details:
        assert shown["category"] == "Deploy"
    assert inferences.client.post(
        f"{INFERENCES}/{workload_id}/suspend", headers=inferences.headers
    ).status_code in (
        404,
        405,
        501,
    )


def test_replicas_are_min_replicas_and_max_below_min_is_refused(served):
    _, inferences = served
    scaled = inference("scaled", autoscaling={"minReplicas": 2, "maxReplicas": 4})
    workload_id = inferences.create(scaled).json()["workloadId"]
    inferences.advance(10)
    shown = inferences.workload(workload_id)
    assert shown["requestedPods"]["number"] == 2 and shown["runningPods"] == 2
    pods = inferences.client.get(f"/api/v1/workloads/{workload_id}/pods", headers=inferences.headers)
    assert len(pods.json()["pods"]) == 2
    to_zero = inferences.create(inference("to-zero", autoscaling={"minReplicas": 0, "maxReplicas": 3}))
    inferences.advance(10)
    assert inferences.workload(to_zero.json()["workloadId"])["runningPods"] == 1
    bad = inferences.create(inference("bad", autoscaling={"minReplicas": 3, "maxReplicas": 2}))
    assert bad.status_code == 400 and "maxReplicas" in bad.json()["message"]


def test_patch_rolls_out_through_updating_then_runs_the_new_spec(served):
    api, inferences = served
    row = VERSIONS[api]
    workload_id = inferences.create(inference()).json()["workloadId"]
    inferences.advance(10)
    patched = inferences.patch(
        workload_id, {"image": "vllm/vllm-openai:v2", "autoscaling": {"minReplicas": 2}}
    )
    if row.inference_patch_status is None:  # 2.18's document has no PATCH: not simulated, said plainly
        assert patched.status_code in (405, 501)
        return
    assert patched.status_code == row.inference_patch_status, patched.text
    assert patched.json()["actualPhase"] == "Updating"
    assert inferences.phase(workload_id) == "Updating"
    assert inferences.workload(workload_id)["phase"] == "Updating"
    inferences.advance(5)
    after = inferences.get(workload_id).json()
    assert after["actualPhase"] == "Running"
    assert after["spec"]["image"] == "vllm/vllm-openai:v2"
    assert after["spec"]["servingPort"] == {"container": 8000}  # merged, not replaced
    assert inferences.workload(workload_id)["runningPods"] == 2
    history = inferences.client.get(f"/api/v1/workloads/{workload_id}/history", headers=inferences.headers)
    phases = [
        r["spec"]["phaseUpdate"]["phase"] for r in history.json()["records"] if "phaseUpdate" in r["spec"]
    ]
    assert phases[-2:] == ["Updating", "Running"], phases


def test_a_rollout_that_does_not_fit_stays_updating(served):
    api, inferences = served
    if VERSIONS[api].inference_patch_status is None:
        pytest.skip("no PATCH of an inference in this version's document")
    workload_id = inferences.create(inference()).json()["workloadId"]
    inferences.advance(10)
    # A replica of 64 GPUs fits on no node: the new revision waits, and the inference shows Updating.
    inferences.patch(workload_id, {"compute": {"gpuDevicesRequest": 64}})
    inferences.advance(30)
    assert inferences.phase(workload_id) == "Updating"
    inferences.patch(workload_id, {"compute": {"gpuDevicesRequest": 1}, "autoscaling": {"minReplicas": 2}})
    inferences.advance(5)
    assert inferences.phase(workload_id) == "Running"
    assert inferences.workload(workload_id)["runningPods"] == 2


def test_patch_of_another_kind_or_an_unknown_id_is_404(served):
    api, inferences = served
    if VERSIONS[api].inference_patch_status is None:
        pytest.skip("no PATCH of an inference in this version's document")
    training_id = inferences.client.post(
        "/api/v1/workloads/trainings",
        json={"name": "t", "projectId": "1", "clusterId": CLUSTER_ID, "spec": {"image": "python:3.11"}},
        headers=inferences.headers,
    ).json()["workloadId"]
    assert inferences.patch(training_id, {"image": "x"}).status_code == 404
    assert inferences.get(training_id).status_code == 404
    assert inferences.patch("3f1f0f7e-1111-4222-8333-444455556666", {"image": "x"}).status_code == 404


def test_inferences_list_beside_other_kinds(served):
    _, inferences = served
    serving = inferences.create(inference()).json()["workloadId"]
    inferences.client.post(
        "/api/v1/workloads/trainings",
        json={"name": "t", "projectId": "1", "clusterId": CLUSTER_ID, "spec": {"image": "python:3.11"}},
        headers=inferences.headers,
    )
    only = inferences.client.get(
        "/api/v1/workloads", params={"filterBy": "type==Inference"}, headers=inferences.headers
    ).json()["workloads"]
    assert [w["id"] for w in only] == [serving]
    count = inferences.client.get(
        "/api/v1/workloads/count", params={"filterBy": "type==Inference"}, headers=inferences.headers
    )
    assert count.json()["count"] == 1


def test_every_move_of_the_inference_table_is_legal_for_the_harness():
    # The harness (contracts/oracle/phases.py) has no PATCH action: the update's moves must be ones it
    # accepts as the cluster's own (Running -> Updating -> Running, Initializing -> Pending).
    actions = {Trigger.DELETE: [harness.Action.DELETE]}
    moves = [
        (source, row.target, row.trigger)
        for row in TRANSITIONS
        if row.target is not None
        for source in row.source
        if source is not row.target
    ]
    assert moves
    for source, target, trigger in moves:
        assert target is not None
        legal = harness.is_legal(source.value, target.value, actions.get(trigger, []))
        assert legal, (source.value, target.value, trigger.value)


def test_patch_of_a_failed_inference_changes_nothing(served):
    api, inferences = served
    if VERSIONS[api].inference_patch_status is None:
        pytest.skip("no PATCH of an inference in this version's document")
    workload_id = inferences.create(inference()).json()["workloadId"]
    inferences.advance(10)
    forced = inferences.client.post(f"{CONTROL}/trainings/{workload_id}/outcome", json={"outcome": "Failed"})
    assert forced.status_code == 202, forced.text
    assert inferences.phase(workload_id) == "Failed"
    answer = inferences.patch(workload_id, {"image": "changed:latest"})
    assert answer.status_code == VERSIONS[api].inference_patch_status
    assert answer.json()["actualPhase"] == "Failed"
    assert answer.json()["spec"]["image"] == "vllm/vllm-openai:latest"


def test_requested_pods_show_the_autoscaling_bounds(served):
    _, inferences = served
    bodies = {
        "scaled": inference("scaled", autoscaling={"minReplicas": 2, "maxReplicas": 4}),
        "to-zero": inference("to-zero", autoscaling={"minReplicas": 0, "maxReplicas": 3}),
        "fixed": inference("fixed"),
    }
    ids = {name: inferences.create(body).json()["workloadId"] for name, body in bodies.items()}
    inferences.advance(10)
    shown = {name: inferences.workload(i)["requestedPods"] for name, i in ids.items()}
    blank = {"parallelism": None, "completions": None}
    assert shown["scaled"] == {"number": 2, "min": 2, "max": 4, **blank}
    assert shown["to-zero"] == {"number": 1, "min": 0, "max": 3, **blank}
    assert shown["fixed"] == {"number": 1, "min": 1, "max": 1, **blank}

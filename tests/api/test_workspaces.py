"""Workspaces (`/api/v1/workloads/workspaces`), the second container kind: each version's codes and
defaults, the same phases, views and actions as a training, and a data mover that completes in seconds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mockserver.app import create_app
from mockserver.cluster.priorities import PRIORITY_CLASSES
from mockserver.config import load_config
from mockserver.versions import VERSIONS
from tests.conftest import CLUSTER_ID, Api, get_token, training

WORKSPACES = "/api/v1/workloads/workspaces"
CONTROL = "/api/mock/v1"
# NeMo-Run's data mover, as DGXCloudExecutor submits it before a training (the archive shortened).
DATA_MOVER = (
    "rm -rf /nemo_run/job && mkdir -p /nemo_run/job && echo H4sIAAAAAAAAA+3BAQ0AAADCoPdPbQ43oAAAAAAAAAAA"
    " | base64 -d > /nemo_run/job/archive.tar.gz && tar -xzf /nemo_run/job/archive.tar.gz -C /nemo_run/job"
    " && rm /nemo_run/job/archive.tar.gz"
)


class Workspaces(Api):
    """The same verbs over the workspaces paths."""

    def create(self, body: dict[str, Any]) -> Any:
        return self.client.post(WORKSPACES, json=body, headers=self.headers)

    def get(self, workload_id: str) -> Any:
        return self.client.get(f"{WORKSPACES}/{workload_id}", headers=self.headers)

    def action(self, workload_id: str, verb: str) -> Any:
        return self.client.post(f"{WORKSPACES}/{workload_id}/{verb}", headers=self.headers)

    def delete(self, workload_id: str) -> Any:
        return self.client.delete(f"{WORKSPACES}/{workload_id}", headers=self.headers)

    def workload(self, workload_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.client.get(
            f"/api/v1/workloads/{workload_id}", headers=self.headers
        ).json()
        return answer

    def job(self, workload_id: str) -> dict[str, Any]:
        jobs = self.client.get(f"{CONTROL}/snapshot").json()["jobs"]
        return next(job for job in jobs if job["id"] == workload_id)


@pytest.fixture(params=sorted(VERSIONS))
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, Workspaces]]:
    with create_app(load_config(), api=request.param).test_client() as client:
        yield request.param, Workspaces(client, {"Authorization": f"Bearer {get_token(client)}"})


def workspace(name: str = "ws-a", project: str = "1", **spec: Any) -> dict[str, Any]:
    return {
        "name": name,
        "projectId": project,
        "clusterId": CLUSTER_ID,
        "spec": {"image": "jupyter/base-notebook", "compute": {"gpuDevicesRequest": 1}, **spec},
    }


def test_create_answers_each_versions_code_and_the_workspace(served):
    api, workspaces = served
    created = workspaces.create(workspace())
    assert created.status_code == VERSIONS[api].create_status
    body = created.json()
    assert body["name"] == "ws-a" and body["actualPhase"] == "Creating" and body["desiredPhase"] == "Running"
    assert body["spec"]["image"] == "jupyter/base-notebook"
    assert workspaces.get(body["workloadId"]).json()["workloadId"] == body["workloadId"]


def test_interactive_default_priority_is_non_preemptible(served):
    api, workspaces = served
    workload_id = workspaces.create(workspace()).json()["workloadId"]
    workspaces.advance(3)
    job = workspaces.job(workload_id)
    # 2.18's interactive class is `build` (100); the latest's is `high` (125): both non-preemptible.
    interactive = VERSIONS[api].default_priority["Build"]
    assert interactive in (("build",) if api == "2.18" else ("build", "high"))
    assert (job["priority"], job["preemptible"]) == (PRIORITY_CLASSES[interactive], False)
    if api == "latest":
        assert job["priority"] == 125
    shown = workspaces.workload(workload_id)
    assert shown["type"] == "Workspace" and shown["priorityClassName"] == interactive
    assert shown["actionsSupport"] == {"delete": True, "suspend": True}
    if VERSIONS[api].workload_details:
        assert shown["category"] == "Build"


def test_a_workspace_runs_until_suspended_then_resumes_and_is_deleted(served):
    api, workspaces = served
    workload_id = workspaces.create(workspace()).json()["workloadId"]
    workspaces.advance(10)
    assert workspaces.phase(workload_id) == "Running"
    workspaces.advance(100_000)  # no command that ends: a notebook runs until it is stopped
    assert workspaces.phase(workload_id) == "Running"
    assert workspaces.action(workload_id, "suspend").status_code == 202
    workspaces.advance(5)
    assert workspaces.phase(workload_id) == "Stopped"
    assert workspaces.workload(workload_id)["phase"] == "Stopped"
    assert workspaces.action(workload_id, "resume").status_code == 202
    workspaces.advance(10)
    assert workspaces.phase(workload_id) == "Running"
    deleted = workspaces.delete(workload_id)
    assert deleted.status_code == VERSIONS[api].delete_status
    workspaces.advance(5)
    assert workspaces.get(workload_id).status_code == 404


def test_nemo_run_data_mover_completes_in_seconds(served):
    _, workspaces = served
    body = workspace("data-mover", image="busybox:1.37.0", command="sh -c", args=f"'{DATA_MOVER}'")
    body["useGivenNameAsPrefix"] = True
    body["spec"].pop("compute")
    workload_id = workspaces.create(body).json()["workloadId"]
    phases = workspaces.phases_over(workload_id, 10)
    assert phases[-1] == "Completed", phases
    assert "Running" in phases or "Initializing" in phases
    events = workspaces.client.get(f"/api/v1/workloads/{workload_id}/events", headers=workspaces.headers)
    assert events.status_code == 200 and events.json()["events"]


def test_a_workspace_must_fit_in_quota_where_a_training_may_go_over(served):
    api, workspaces = served
    # team-a deserves 4 GPUs in the default pool; the first workspace takes them all.
    first = workspaces.create(workspace("ws-full", compute={"gpuDevicesRequest": 4})).json()["workloadId"]
    second = workspaces.create(workspace("ws-over")).json()["workloadId"]
    over = workspaces.client.post(
        "/api/v1/workloads/trainings", json=training("train-over"), headers=workspaces.headers
    ).json()["workloadId"]
    workspaces.advance(10)
    assert workspaces.phase(first) == "Running"
    assert workspaces.workload(over)["phase"] == "Running"  # preemptible: over quota on idle GPUs
    pending = workspaces.workload(second)
    assert pending["phase"] == "Pending"
    assert pending["phaseMessage"].startswith("Non-preemptible workload is over quota")
    if VERSIONS[api].workload_details:
        assert pending["phaseReason"] == "NonPreemptibleOverQuota"


def test_kinds_do_not_answer_for_each_other(served):
    _, workspaces = served
    workspace_id = workspaces.create(workspace()).json()["workloadId"]
    training_id = workspaces.client.post(
        "/api/v1/workloads/trainings", json=training(), headers=workspaces.headers
    ).json()["workloadId"]
    assert workspaces.get(training_id).status_code == 404
    assert workspaces.action(training_id, "suspend").status_code == 404
    assert (
        workspaces.client.get(
            f"/api/v1/workloads/trainings/{workspace_id}", headers=workspaces.headers
        ).status_code
        == 404
    )
    listed = workspaces.client.get("/api/v1/workloads", headers=workspaces.headers).json()["workloads"]
    assert sorted(w["type"] for w in listed) == ["Training", "Workspace"]
    only = workspaces.client.get(
        "/api/v1/workloads", params={"filterBy": "type==Workspace"}, headers=workspaces.headers
    ).json()["workloads"]
    assert [w["id"] for w in only] == [workspace_id]


def test_names_are_unique_across_kinds_in_a_project(served):
    _, workspaces = served
    assert workspaces.create(workspace("shared-name")).status_code in (200, 202)
    clash = workspaces.client.post(
        "/api/v1/workloads/trainings", json=training("shared-name"), headers=workspaces.headers
    )
    assert clash.status_code == 400
    assert "already exists" in clash.json()["complianceIssues"][0]["details"]

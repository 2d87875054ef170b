"""runapy, unmodified, through a user's whole flow against a live fake on a real-time clock.

Here runapy 1.224 (ours) against 2.18 and latest; tests/live/test_runapy_versions.py runs this same file
with each runapy release 1.218 … 1.224 against its own API version (`RUNAI_MOCK_RUNAPY_APIS` names the
versions served, `RUNAI_MOCK_RUNAPY_MODELS` the version runapy's models were generated from). In each:
look the cluster and the project up, submit, follow the training through the workloads API until
Running, list, count, read its events, suspend until Stopped, delete, and find it again under
`deleted=true`. No control-API call: the fake runs as a deployment would (real time, 20x). Every answer
is checked against the served contract; where runapy matches the version, runapy's own pydantic models
must take it as well (its `Project` and `Department` models are generated from another schema of the
same name, metrics' `{metadata, current}`, and refuse any answer that follows the document; those two
are checked against the contract only).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from jsonschema import Draft4Validator

from contracts.backend.server import LocalServer, fake_command
from mockserver.http.validation import install_formats
from mockserver.versions import VERSIONS
from tests.conftest import CLUSTER_ID
from tests.live import runapy

pytestmark = pytest.mark.slow
SPEED = 20  # virtual seconds per real second
WAIT_SECONDS = 30.0  # real seconds any one wait may take before the test fails
APIS = os.environ.get("RUNAI_MOCK_RUNAPY_APIS", "2.18,latest").split(",")
# The API version runapy's models describe: its answers are parsed by them (runapy 1.224: latest).
MODELS = os.environ.get("RUNAI_MOCK_RUNAPY_MODELS", "latest")


@pytest.fixture(scope="module", params=APIS)
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, LocalServer, dict[str, Any]]]:
    api = request.param
    command = fake_command(seed=11, clock="realtime", speed=SPEED, api=api, real_deployment=True)
    with LocalServer.start(command) as live:
        contract = httpx.get(live.base_url + "/api/v1/openapi.json", timeout=10).json()
        yield api, live, contract


def _as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 to JSON Schema: nullable as a null type, refs to `definitions`."""
    if isinstance(node, list):
        return [_as_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return {"$ref": "#/definitions/" + node["$ref"].rsplit("/", 1)[1]}
    out = {k: _as_json_schema(v) for k, v in node.items() if k not in ("nullable", "example", "examples")}
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


def conforms(contract: dict[str, Any], path: str, answer: Any) -> None:
    """The answer matches the 200 schema of GET `path` in the contract the server itself serves."""
    install_formats()
    schema = contract["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    definitions = {k: _as_json_schema(v) for k, v in contract["components"]["schemas"].items()}
    validator = Draft4Validator(
        {**_as_json_schema(schema), "definitions": definitions}, format_checker=Draft4Validator.FORMAT_CHECKER
    )
    errors = [f"{list(e.absolute_path)}: {e.message[:160]}" for e in validator.iter_errors(answer)]
    assert not errors, (path, errors[:5])


# Models an earlier runapy release names differently: (name in 1.224) -> earlier names.
EARLIER_NAMES = {"WorkloadDetailed": ("Workload",)}


def parsed(api: str, name: str, answer: dict[str, Any]) -> None:
    """runapy's model `name` takes the answer where runapy was generated from the version served
    (runapy 1.224's models do not describe 2.18 answers)."""
    if VERSIONS[api].spec == VERSIONS[MODELS].spec:
        model = next(
            getattr(runapy.models, n)
            for n in (name, *EARLIER_NAMES.get(name, ()))
            if hasattr(runapy.models, n)
        )
        assert model.from_dict(answer) is not None


def wait_for(what: str, probe: Callable[[], Any], wanted: Callable[[Any], bool]) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    seen = probe()
    while not wanted(seen):
        assert time.monotonic() < deadline, f"{what}: still {seen!r} after {WAIT_SECONDS} s"
        time.sleep(0.1)
        seen = probe()
    return seen


def test_look_up_create_follow_suspend_delete(served: tuple[str, LocalServer, dict[str, Any]]) -> None:
    api, server, contract = served
    config = runapy.Configuration(
        client_id="mock-app", client_secret="mock-secret", runai_base_url=server.base_url
    )
    client = runapy.RunaiClient(runapy.ApiClient(config))
    organizations, workloads = client.organizations, client.workloads

    clusters = organizations.clusters.get_clusters().data
    conforms(contract, "/api/v1/clusters", clusters)
    for item in clusters:
        parsed(api, "DisplayedCluster", item)
    cluster_id = clusters[0]["uuid"]
    assert cluster_id == CLUSTER_ID

    projects = organizations.projects.get_projects(filter_by=[f"clusterId=={cluster_id}"]).data
    conforms(contract, "/api/v1/org-unit/projects", projects)
    project = next(p for p in projects["projects"] if p["name"] == "team-a")
    assert project["clusterId"] == cluster_id
    assert organizations.projects.get_projects(filter_by=["clusterId!=" + cluster_id]).data["projects"] == []

    request = runapy.TrainingCreationRequest.from_dict(
        {
            "name": "runapy-flow",
            "projectId": project["id"],
            "clusterId": cluster_id,
            "spec": {"image": "python:3.11", "command": "sleep 3600", "compute": {"gpuDevicesRequest": 1}},
        }
    )
    created = workloads.trainings.create_training1(training_creation_request=request)
    assert created.status_code == VERSIONS[api].create_status
    workload_id = created.data["workloadId"]

    def workload() -> dict[str, Any]:
        answer: dict[str, Any] = workloads.workloads.get_workload(workload_id=workload_id).data
        conforms(contract, "/api/v1/workloads/{workloadId}", answer)
        parsed(api, "WorkloadDetailed", answer)
        return answer

    running = wait_for("phase", workload, lambda w: w["phase"] == "Running")
    assert running["runningPods"] == 1 and running["allocatedResources"]["gpu"] == 1
    assert running["projectId"] == project["id"] and running["type"] == "Training"
    assert workloads.trainings.get_training(workload_id=workload_id).data["actualPhase"] == "Running"

    listed = workloads.workloads.get_workloads(filter_by=[f"projectId=={project['id']}"]).data
    conforms(contract, "/api/v1/workloads", listed)
    parsed(api, "GetWorkloads200Response", listed)
    assert [w["id"] for w in listed["workloads"]] == [workload_id]
    assert workloads.workloads.count_workloads().data == {"count": 1}

    events = workloads.events.get_workload_events(workload_id=workload_id).data
    conforms(contract, "/api/v1/workloads/{workloadId}/events", events)
    parsed(api, "GetWorkloadEvents200Response", events)
    assert any(e["reason"] == "Scheduled" for e in events["events"])
    pods = workloads.pods.get_workload_pods(workload_id=workload_id).data
    conforms(contract, "/api/v1/workloads/{workloadId}/pods", pods)
    assert [p["nodeName"] is not None for p in pods["pods"]] == [True]

    assert workloads.trainings.suspend_training(workload_id=workload_id).status_code == 202
    wait_for("phase after suspend", workload, lambda w: w["phase"] == "Stopped")
    assert workload()["runningPods"] == 0

    assert workloads.trainings.delete_training(workload_id=workload_id).status_code in (202, 204)
    wait_for(
        "deleted listing",
        lambda: [w["id"] for w in workloads.workloads.get_workloads(deleted=True).data["workloads"]],
        lambda ids: ids == [workload_id],
    )
    gone = workloads.workloads.get_workloads(deleted=True).data
    conforms(contract, "/api/v1/workloads", gone)
    assert gone["workloads"][0]["deletedAt"] is not None
    assert workloads.workloads.get_workloads().data["workloads"] == []
    with pytest.raises(runapy.NotFoundException):
        workloads.trainings.get_training(workload_id=workload_id)
    client.close()


def test_the_control_api_is_not_there(served: tuple[str, LocalServer, dict[str, Any]]) -> None:
    # The flow above ran against a fake without its control API, as a deployment would be.
    _, server, _ = served
    assert httpx.get(server.base_url + "/api/mock/v1/snapshot", timeout=10).status_code == 404

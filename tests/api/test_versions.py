"""Every API version from 2.18 to 2.24 (and latest, which is 2.24): what a client of each sees.

The expectations are the official documents' (docs/versions.md lists what each upgrade changes); the
version rows (mockserver/versions/rows.py) are held to their contracts' filter and sort fields.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from contracts.docwalk import operation_items
from mockserver.app import create_app
from mockserver.specs import load_spec
from mockserver.versions import VERSIONS
from tests.conftest import Api, get_token, training

CONTROL = "/api/mock/v1"
NAMES = ("2.18", "2.19", "2.20", "2.21", "2.22", "2.23", "2.24", "latest")
# name: (create, delete, default priority of a training, shows deletedAt, token expiresIn, MIG profiles,
#        honours spec.preemptibility, the node-pool list)
EXPECTED = {
    "2.18": (200, 204, 50, False, False, True, False, "/v1/k8s/clusters/{clusterId}/node-pools"),
    "2.19": (200, 204, 50, False, False, True, False, "/api/v1/node-pools"),
    "2.20": (200, 204, 50, False, False, True, False, "/api/v1/node-pools"),
    "2.21": (202, 202, 50, True, False, True, False, "/api/v1/node-pools"),
    "2.22": (202, 202, 40, True, False, True, False, "/api/v1/node-pools"),
    "2.23": (202, 202, 40, True, False, True, False, "/api/v1/node-pools"),
    "2.24": (202, 202, 40, True, True, False, True, "/api/v1/node-pools"),
    "latest": (202, 202, 40, True, True, False, True, "/api/v1/node-pools"),
}


@pytest.fixture(params=NAMES)
def served(request: pytest.FixtureRequest) -> Any:
    with create_app(api=request.param, seed=4).test_client() as client:
        yield request.param, Api(client, {"Authorization": f"Bearer {get_token(client)}"})


def _jobs(api: Api) -> dict[str, Any]:
    return {job["id"]: job for job in api.client.get(f"{CONTROL}/snapshot").json()["jobs"]}


def test_each_version_answers_as_its_document_says(served: Any) -> None:
    name, api = served
    create, delete, priority, deleted_at, expires_in, mig, preemptibility, node_pools = EXPECTED[name]
    document = api.client.get("/api/v1/openapi.json").json()
    assert document["info"]["version"] == name
    assert node_pools in document["paths"]
    created = api.create(training("plain"))
    assert created.status_code == create
    assert ("deletedAt" in created.json()) is deleted_at
    pinned = api.create(training("pinned", preemptibility="non-preemptible"))
    # The priority classes: 2.18 to 2.21 name them train, build and interactive-preemptible (an enum of the
    # contract); from 2.22 on very-low … very-high.
    newer = api.create(training("newer", priorityClass="very-low")).status_code
    older = api.create(training("older", priorityClass="interactive-preemptible")).status_code
    assert (newer, older) == ((create, create) if priority == 40 else (400, create))
    api.advance(3)
    jobs = _jobs(api)
    assert jobs[created.json()["workloadId"]]["priority"] == priority
    assert jobs[pinned.json()["workloadId"]]["preemptible"] is not preemptibility
    removed = api.client.delete(
        f"/api/v1/workloads/trainings/{created.json()['workloadId']}", headers=api.headers
    )
    assert removed.status_code == delete
    assert (removed.json() if delete == 202 else removed.text) == (
        {"code": 202, "message": "Request has been accepted."} if delete == 202 else ""
    )
    token = api.client.post(
        "/api/v1/token", json={"grantType": "app_token", "AppId": "mock-app", "AppSecret": "mock-secret"}
    ).json()
    assert ("expiresIn" in token) is expires_in
    mig_request = api.create(
        training("sliced", compute={"gpuRequestType": "migProfile", "migProfile": "1g.5gb"})
    )
    assert mig_request.status_code == (create if mig else 400)


def test_each_version_serves_the_operations_of_its_contract(served: Any) -> None:
    name, api = served
    document = api.client.get("/api/v1/openapi.json").json()
    contract = load_spec(VERSIONS[name].spec)
    assert {op["operationId"] for _, _, op in operation_items(document)} == {
        op["operationId"] for _, _, op in operation_items(contract)
    }


def _list_fields(document: dict[str, Any], operation_id: str) -> set[str]:
    """The fields a list's `filterBy` pattern and `sortBy` enum name in a contract."""
    operation = next(op for _, _, op in operation_items(document) if op["operationId"] == operation_id)
    fields: set[str] = set()
    for parameter in operation.get("parameters", []):
        if "$ref" in parameter:
            parameter = document["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[1]]
        schema = parameter.get("schema", {})
        if parameter["name"] == "filterBy":
            alternatives = re.match(r"\^\(([^)]*)\)", schema["items"]["pattern"])
            assert alternatives is not None
            # 2.19 to 2.21 end the workloads pattern's alternatives with an empty one: no field.
            fields |= {name for name in alternatives.group(1).split("|") if name}
        elif parameter["name"] == "sortBy":
            fields |= set(schema.get("enum", []))
    return fields


@pytest.mark.parametrize("name", NAMES)
def test_each_row_filters_and_sorts_by_the_fields_its_contract_names(name: str) -> None:
    row = VERSIONS[name]
    contract = load_spec(row.spec)
    assert row.workload_fields == _list_fields(contract, "get_workloads")
    assert row.project_fields == _list_fields(contract, "get_projects")
    assert row.department_fields == _list_fields(contract, "get_departments")


def test_2_24_and_latest_are_the_same_row_under_two_names() -> None:
    assert VERSIONS["2.24"].spec == VERSIONS["latest"].spec
    assert {**vars(VERSIONS["2.24"]), "name": "latest"} == vars(VERSIONS["latest"])

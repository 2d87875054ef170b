"""Every bad input gets a documented status and the API's {code, message} body; never a 500."""

from __future__ import annotations

import pytest

from tests.conftest import training

TRAININGS = "/api/v1/workloads/trainings"


def assert_error(response, status: int, fragment: str = "") -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["code"] == status and isinstance(body["message"], str) and body["message"]
    assert fragment in body["message"], body


def test_unknown_route_is_404(client):
    assert_error(client.get("/api/v1/nothing-here"), 404, "No such endpoint")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("put", f"{TRAININGS}/06d16c5d-4728-42fa-b573-3b11820d999f", "DELETE, GET"),
        # GET here reads the workload with id "trainings" (404), as the router matches /workloads/{workloadId};
        # Allow names the methods of the path's own template, as a client reading the contract expects.
        ("delete", TRAININGS, "POST"),
        ("get", "/api/v1/token", "POST"),
        ("patch", f"{TRAININGS}/06d16c5d-4728-42fa-b573-3b11820d999f/suspend", "POST"),
    ],
)
def test_wrong_method_is_405_with_complete_allow(client, auth, method, path, allow):
    response = client.request(method.upper(), path, headers=auth)
    assert_error(response, 405)
    assert response.headers["allow"] == allow


def test_malformed_json_is_400(client, auth):
    response = client.post(
        TRAININGS, content=b'{"name": ', headers={**auth, "Content-Type": "application/json"}
    )
    assert_error(response, 400, "not valid JSON")


def test_non_utf8_body_is_400(client, auth):
    response = client.post(
        TRAININGS, content=b"\xb1I\xc4\xa4", headers={**auth, "Content-Type": "application/json"}
    )
    assert_error(response, 400, "not valid")


def test_oversize_body_is_400(client, auth):
    body = training()
    body["spec"]["args"] = "x" * (1024 * 1024 + 10)
    assert_error(client.post(TRAININGS, json=body, headers=auth), 400, "larger than the limit")


def test_wrong_content_type_is_400(client, auth):
    response = client.post(TRAININGS, content=b"name=x", headers={**auth, "Content-Type": "text/plain"})
    assert_error(response, 400, "application/json")


def test_empty_body_is_400(client, auth):
    assert_error(client.post(TRAININGS, headers={**auth, "Content-Type": "application/json"}), 400)


@pytest.mark.parametrize("verb", ["get", "delete", "suspend", "resume"])
def test_malformed_workload_id_is_404(client, auth, verb):
    path = f"{TRAININGS}/not-a-uuid"
    if verb in ("suspend", "resume"):
        response = client.post(f"{path}/{verb}", headers=auth)
    else:
        response = client.request(verb.upper(), path, headers=auth)
    assert_error(response, 404, "Resource id not found")


def test_formats_are_enforced_in_bodies(client, auth):
    body = training()
    body["clusterId"] = "not-a-uuid"
    body["spec"]["probes"] = {"readiness": {"handler": {"httpGet": {"host": "-bad-host-"}}}}
    body["spec"]["storage"] = {"dataVolume": [{"id": "nope", "mountPath": "/d"}]}
    body["spec"]["completions"] = 2**31
    response = client.post(TRAININGS, json=body, headers=auth)
    assert_error(response, 400)
    fields = {i["field"] for i in response.json()["complianceIssues"]}
    assert fields == {
        "clusterId",
        "spec.probes.readiness.handler.httpGet.host",
        "spec.storage.dataVolume[0].id",
        "spec.completions",
    }


def test_extra_query_parameters_are_ignored(client, auth):
    response = client.post(f"{TRAININGS}?dryRun=1", json=training(), headers=auth)
    assert response.status_code == 200


def test_fault_injection_uses_documented_statuses(client, auth):
    assert client.put("/api/mock/v1/faults", json={"errorRate": 1.0, "errorStatus": 500}).status_code == 200
    assert_error(client.post(TRAININGS, json=training(), headers=auth), 503)  # create declares no 500
    assert_error(client.get(f"{TRAININGS}/06d16c5d-4728-42fa-b573-3b11820d999f", headers=auth), 500)
    assert client.get("/api/v1/openapi.json").status_code == 200
    client.post("/api/mock/v1/reset", headers={"X-Mock-Control": "1"})
    assert client.get("/api/mock/v1/faults").json()["errorRate"] == 0


def test_served_contracts(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["info"]["version"] == "2.18"
    assert {op["operationId"] for path in spec["paths"].values() for op in path.values()} == {
        "grant_token",
        "create_training1",
        "get_training",
        "delete_training",
        "suspend_training",
        "resume_training",
        # The reads around trainings (issue 8): organisation look-ups and the workloads views.
        "get_clusters",
        "get_cluster_by_uuid",
        "get_projects",
        "get_project",
        "get_departments",
        "get_department",
        "getNodePools",
        "get_workloads",
        "count_workloads",
        "get_workload",
        "get_workload_events",
        "get_workload_history",
        "get_workload_pods",
        # The second container kind (issue 25, item 1).
        "create_workspace1",
        "get_workspace",
        "delete_workspace",
        "suspend_workspace",
        "resume_workspace",
        # Distributed trainings (issue 25, item 2); 2.18's document has no suspend/resume for them.
        "create_distributed",
        "get_distributed",
        "delete_distributed",
    }
    assert client.get("/api/v1/docs/").status_code == 200
    assert client.get("/api/mock/v1/openapi.json").status_code == 200


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_a_stray_body_on_an_operation_without_one_is_ignored(client, auth, method):
    path = f"{TRAININGS}/06d16c5d-4728-42fa-b573-3b11820d999f"
    headers = {**auth, "Content-Type": "multipart/form-data"}
    assert_error(client.request(method, path, content=b"--x", headers=headers), 404, "Resource id not found")

"""`GET /workloads/pods` and `/pods/count` (every version) and the org-unit counts (where the documents have
them): the same pods as each workload's own pods view, the documented filters, sorts, paging and verbosity,
and counts that agree with the lists."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mockserver.app import create_app
from mockserver.config import load_config
from mockserver.versions import VERSIONS
from tests.conftest import CLUSTER_ID, get_token

PODS = "/api/v1/workloads/pods"


class Client:
    def __init__(self, client: Any, headers: dict[str, str]) -> None:
        self.client, self.headers = client, headers

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params=params, headers=self.headers)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.post(path, json=body, headers=self.headers)

    def advance(self, seconds: float) -> None:
        assert self.client.post("/api/mock/v1/clock/advance", json={"seconds": seconds}).status_code == 200


@pytest.fixture(params=sorted(VERSIONS))
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, Client]]:
    with create_app(load_config(), api=request.param).test_client() as client:
        yield request.param, Client(client, {"Authorization": f"Bearer {get_token(client)}"})


def body(name: str, **spec: Any) -> dict[str, Any]:
    return {"name": name, "projectId": "1", "clusterId": CLUSTER_ID, "spec": {"image": "python:3.11", **spec}}


def test_every_workloads_pods_in_one_list(served):
    _, client = served
    serving = client.post(
        "/api/v1/workloads/inferences",
        body("serve", compute={"gpuDevicesRequest": 1}, autoscaling={"minReplicas": 2}),
    ).json()["workloadId"]
    training = client.post(
        "/api/v1/workloads/trainings", body("train", compute={"gpuDevicesRequest": 1})
    ).json()["workloadId"]
    done = client.post("/api/v1/workloads/trainings", body("done", command="sleep 1")).json()["workloadId"]
    client.advance(20)
    listed = client.get(PODS)
    assert listed.status_code == 200
    pods = listed.json()["pods"]
    # The finished training has no pods; the others' are exactly their own pods views.
    own = [
        p for wid in (serving, training) for p in client.get(f"/api/v1/workloads/{wid}/pods").json()["pods"]
    ]
    assert {p["id"] for p in pods} == {p["id"] for p in own} and len(pods) == 3
    assert done not in {p["workloadId"] for p in pods}
    assert all(p["nodeName"] and p["k8sPhase"] == "Running" for p in pods)
    # Brief by default: no workload or project names; full has them.
    assert all("workloadName" not in p and "projectName" not in p for p in pods)
    full = client.get(PODS, verbosity="full").json()["pods"]
    assert {p["workloadName"] for p in full} == {"serve", "train"}
    assert client.get(PODS + "/count").json() == {"count": 3}
    assert client.get(PODS, completed="true").json()["pods"] == []
    assert client.get(PODS, deleted="true").json()["pods"] == []


def test_filters_sorts_and_pages_as_documented(served):
    api, client = served
    for index in range(3):
        client.post("/api/v1/workloads/trainings", body(f"t{index}", compute={"gpuDevicesRequest": 1}))
        client.advance(1)
    client.advance(20)
    pods = client.get(PODS).json()["pods"]
    node = pods[0]["nodeName"]
    on_node = client.get(PODS, filterBy=f"nodeName=={node}").json()["pods"]
    assert on_node and all(p["nodeName"] == node for p in on_node)
    assert client.get(PODS + "/count", filterBy=f"nodeName=={node}").json()["count"] == len(on_node)
    pool = pods[0]["currentNodePool"]
    assert len(client.get(PODS, filterBy=f"currentNodepool=={pool}").json()["pods"]) == sum(
        p["currentNodePool"] == pool for p in pods
    )
    newest = client.get(PODS, sortBy="createdAt", sortOrder="desc").json()["pods"]
    assert [p["createdAt"] for p in newest] == sorted((p["createdAt"] for p in pods), reverse=True)
    first = client.get(PODS, limit=2).json()
    assert len(first["pods"]) == 2 and first["next"] == 2
    rest = client.get(PODS, limit=2, offset=2).json()
    assert len(rest["pods"]) == 1 and "next" not in rest
    bad = client.get(PODS + "/count", filterBy="createdAt>=yesterday")
    assert bad.status_code == 400 and "ISO 8601" in bad.json()["message"]
    by_workload = client.get(PODS, filterBy=f"workloadId=={pods[0]['workloadId']}")
    if "workloadId" in VERSIONS[api].pod_fields:  # 2.21 and later
        assert [p["id"] for p in by_workload.json()["pods"]] == [pods[0]["id"]]
    else:
        assert by_workload.status_code == 400


def test_pods_follow_the_account(served):
    _, client = served
    client.post("/api/v1/workloads/trainings", body("theirs", compute={"gpuDevicesRequest": 1}))
    mine = client.post("/api/v1/workloads/trainings", {**body("mine"), "projectId": "3"}).json()["workloadId"]
    client.advance(10)
    # `limited-app` may use project 3 only (the default config).
    limited = {"Authorization": f"Bearer {get_token(client.client, 'limited-app', 'limited-secret')}"}
    shown = client.client.get(PODS, headers=limited).json()["pods"]
    assert [p["workloadId"] for p in shown] == [mine]
    assert client.client.get(PODS + "/count", headers=limited).json() == {"count": 1}
    assert client.get(PODS + "/count").json() == {"count": 2}


def test_org_unit_counts_agree_with_the_lists(served):
    api, client = served
    projects = client.get("/api/v1/org-unit/projects/count")
    departments = client.get("/api/v1/org-unit/departments/count")
    if VERSIONS[api].name == "2.18":  # 2.18's document has no org-unit counts: not simulated, said plainly
        assert projects.status_code in (404, 501) and departments.status_code in (404, 501)
        return
    assert projects.json()["count"] == len(client.get("/api/v1/org-unit/projects").json()["projects"])
    assert departments.json()["count"] == len(
        client.get("/api/v1/org-unit/departments").json()["departments"]
    )
    named = client.get("/api/v1/org-unit/projects/count", filterBy="name==team-a")
    assert named.json() == {"count": 1}
    assert client.get("/api/v1/org-unit/projects/count", filterBy="name=@no-such-team").json() == {"count": 0}

"""The workloads API over the same trainings, in-process on a manual clock: phase, reasons in KAI's
words, pods, events, history, list/count/filters, deleted workloads, access, other workload types."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from mockserver.app import create_app
from tests.conftest import Api, get_token, training

WORKLOADS = "/api/v1/workloads"


@pytest.fixture(scope="module", params=["2.18", "latest"])
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def app_of(version: str) -> Iterator[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with create_app(api=version).test_client() as test_client:
            yield test_client


@pytest.fixture
def api(app_of: Any) -> Api:
    assert app_of.post("/api/mock/v1/reset", headers={"X-Mock-Control": "1"}).status_code in (200, 204)
    return Api(app_of, {"Authorization": f"Bearer {get_token(app_of)}"})


def submit(api: Api, body: dict[str, Any]) -> str:
    response = api.create(body)
    assert response.status_code in (200, 202), response.text
    return str(response.json()["workloadId"])


def workload(api: Api, workload_id: str) -> dict[str, Any]:
    response = api.client.get(f"{WORKLOADS}/{workload_id}", headers=api.headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def listed(api: Api, query: str = "") -> list[dict[str, Any]]:
    response = api.client.get(f"{WORKLOADS}{query}", headers=api.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["workloads"]
    return items


def count(api: Api, query: str = "") -> int:
    response = api.client.get(f"{WORKLOADS}/count{query}", headers=api.headers)
    assert response.status_code == 200, response.text
    return int(response.json()["count"])


def test_phase_is_the_trainings_actual_phase_at_every_step(api: Api) -> None:
    workload_id = submit(api, training("follow"))
    seen = []
    for _ in range(6):
        shown = workload(api, workload_id)
        assert shown["phase"] == api.phase(workload_id)
        seen.append(shown["phase"])
        api.advance(1)
    assert seen[0] == "Creating" and "Running" in seen
    running = workload(api, workload_id)
    assert (running["type"], running["runningPods"], running["allocatedResources"]["gpu"]) == (
        "Training",
        1,
        1,
    )
    assert running["k8sPhase"] == "Running" and running["currentNodePools"] == ["default"]
    assert running["requestedPods"]["number"] == 1 and running["projectName"] == "team-a"


def test_pods_are_the_schedulers(api: Api) -> None:
    half = {"gpuDevicesRequest": 1, "gpuRequestType": "portion", "gpuPortionRequest": 0.5}
    workload_id = submit(api, training("half", compute=half))
    api.advance(5)
    pods = api.client.get(f"{WORKLOADS}/{workload_id}/pods", headers=api.headers).json()["pods"]
    snapshot = api.client.get("/api/mock/v1/snapshot").json()
    job = next(j for j in snapshot["jobs"] if j["id"] == workload_id)
    assert [p["nodeName"] for p in pods] == [p["node"] for p in job["pods"]]
    assert [p["allocatedResources"]["gpu"] for p in pods] == [0.5]
    assert pods[0]["workloadId"] == workload_id and pods[0]["k8sPhase"] == "Running"
    assert workload(api, workload_id)["allocatedResources"]["gpu"] == 0.5


def test_a_pending_training_says_why(version: str, api: Api) -> None:
    workload_id = submit(api, training("huge", compute={"gpuDevicesRequest": 100}))
    api.advance(3)
    shown = workload(api, workload_id)
    assert shown["phase"] == "Pending"
    assert shown["phaseMessage"].startswith("Resources were not found for pod due to: no nodes with enough")
    scheduled = next(c for c in shown["conditions"] if c["type"] == "PodScheduled")
    assert (scheduled["status"], scheduled["message"]) == ("False", shown["phaseMessage"])
    events = api.client.get(f"{WORKLOADS}/{workload_id}/events", headers=api.headers).json()["events"]
    assert any(e["reason"] == "Unschedulable" and e["message"] == shown["phaseMessage"] for e in events)
    assert (
        api.client.get(f"{WORKLOADS}/{workload_id}/pods", headers=api.headers).json()["pods"][0]["nodeName"]
        is None
    )


def test_over_limit_is_named_as_kai_names_it(version: str, api: Api) -> None:
    # team-b may use at most 8 GPUs in my-node-pool-a.
    workload_id = submit(
        api, training("greedy", project="3", nodePools=["my-node-pool-a"], compute={"gpuDevicesRequest": 9})
    )
    api.advance(3)
    shown = workload(api, workload_id)
    assert "quota has reached the allowable limit of GPUs. Limit is 8 GPUs" in shown["phaseMessage"]
    if version == "latest":
        assert shown["phaseReason"] == "OverLimit"
        (message,) = shown["pendingSchedulingMessages"]
        assert (message["phaseReason"], message["nodePool"]) == ("OverLimit", "my-node-pool-a")


def test_a_reclaimed_training_says_who_took_its_gpus(api: Api) -> None:
    # team-b fills the default pool beyond its quota; team-a, under its quota of 4, reclaims.
    victims = [submit(api, training(f"b{i}", project="3", nodePools=["default"])) for i in range(8)]
    api.advance(5)
    reclaimer = submit(api, training("a4", nodePools=["default"], compute={"gpuDevicesRequest": 4}))
    api.advance(2)
    preempted = [w for w in map(lambda v: workload(api, v), victims) if w["phase"] == "Terminating"]
    assert len(preempted) == 4
    for shown in preempted:
        assert shown["phaseMessage"].startswith(f"Pod was preempted by workload {reclaimer}.")
        assert (
            "Project team-b uses" in shown["phaseMessage"]
            and "with a quota of 2 GPUs" in shown["phaseMessage"]
        )
        disruption = next(c for c in shown["conditions"] if c["type"] == "DisruptionTarget")
        assert disruption["reason"] == "PreemptionByScheduler"
    api.advance(3)
    back = workload(api, preempted[0]["id"])
    assert back["phase"] == "Pending"
    assert any(c["type"] == "DisruptionTarget" for c in back["conditions"])
    events = api.client.get(f"{WORKLOADS}/{back['id']}/events?sortOrder=asc", headers=api.headers).json()
    assert any(e["reason"] == "Preempted" and reclaimer in e["message"] for e in events["events"])


def test_history_holds_the_phase_changes_in_order(api: Api) -> None:
    workload_id = submit(api, training("story"))
    api.advance(5)
    records = api.client.get(f"{WORKLOADS}/{workload_id}/history", headers=api.headers).json()["records"]
    phases = [r["spec"]["phaseUpdate"]["phase"] for r in records if r["meta"]["type"] == "PhaseUpdate"]
    assert phases == ["Creating", "Pending", "Initializing", "Running"]
    stamps = [r["meta"]["creationTimestamp"] for r in records]
    assert stamps == sorted(stamps)


def test_events_newest_first_in_latest(version: str, api: Api) -> None:
    workload_id = submit(api, training("news"))
    api.advance(5)
    events = api.client.get(f"{WORKLOADS}/{workload_id}/events", headers=api.headers).json()["events"]
    stamps = [e["createdAt"] for e in events]
    assert stamps == sorted(stamps, reverse=version == "latest")
    page = api.client.get(f"{WORKLOADS}/{workload_id}/events?limit=2", headers=api.headers).json()
    assert len(page["events"]) == 2 and page["next"] == 2


def test_list_count_and_filters_agree(api: Api) -> None:
    running = submit(api, training("small"))
    pending = submit(api, training("huge", compute={"gpuDevicesRequest": 100}))
    other = submit(api, training("elsewhere", project="3"))
    api.advance(5)
    assert [w["id"] for w in listed(api)] == [running, pending, other]
    assert count(api) == 3
    for query, expected in [
        ("?filterBy=phase==Pending", [pending]),
        ("?filterBy=phase!=Pending", [running, other]),
        ("?filterBy=projectName=^team-b", [other]),
        ("?filterBy=name=@e", [pending, other]),
        ("?filterBy=allocatedGPU>=1", [running, other]),
        ("?filterBy=allocatedGPU<=0", [pending]),
        ("?filterBy=nodepool==default", [running, pending, other]),
        ("?filterBy=createdAt>=2025-01-01T00:00:00Z", [running, pending, other]),
        ("?filterBy=type==Training,projectId==1", [running, pending]),
        ("?sortBy=name", [other, pending, running]),
        ("?sortBy=name&sortOrder=desc&limit=1", [running]),
    ]:
        assert [w["id"] for w in listed(api, query)] == expected, query
        if "sortBy" not in query:
            assert count(api, query) == len(expected), query


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("?filterBy=colour==red", "does not match"),
        ("?filterBy=allocatedGPU>=many", "'many' is not a number"),
        ("?filterBy=createdAt=@2025", "takes only ==, !=, <= and >="),
        ("?filterBy=deletedAt>=soon", "not an ISO 8601 date-time"),
        ("?limit=501", "greater than the maximum"),
        ("?sortBy=colour", "is not one of"),
    ],
)
def test_bad_list_parameters_are_400(api: Api, query: str, fragment: str) -> None:
    for path in (WORKLOADS, f"{WORKLOADS}/count"):
        if path.endswith("count") and ("limit" in query or "sortBy" in query):
            continue
        response = api.client.get(f"{path}{query}", headers=api.headers)
        assert response.status_code == 400, (path, response.text)
        assert response.json()["code"] == 400 and fragment in response.json()["message"]


def test_a_deleted_training_is_listed_only_under_deleted(version: str, api: Api) -> None:
    workload_id = submit(api, training("gone"))
    api.advance(5)
    assert api.delete(workload_id).status_code in (202, 204)
    api.advance(5)
    assert api.get(workload_id).status_code == 404
    assert listed(api) == [] and count(api) == 0
    (deleted,) = listed(api, "?deleted=true")
    assert deleted["id"] == workload_id and deleted["deletedAt"] is not None
    assert count(api, "?deleted=true") == 1
    assert workload(api, workload_id)["deletedAt"] == deleted["deletedAt"]


def test_access_follows_the_account(api: Api) -> None:
    mine = submit(api, training("mine", project="3"))
    theirs = submit(api, training("theirs", project="1"))
    limited = {"Authorization": f"Bearer {get_token(api.client, 'limited-app', 'limited-secret')}"}
    shown = api.client.get(WORKLOADS, headers=limited).json()["workloads"]
    assert [w["id"] for w in shown] == [mine]
    assert api.client.get(f"{WORKLOADS}/count", headers=limited).json() == {"count": 1}
    for suffix in ("", "/events", "/history", "/pods"):
        forbidden = api.client.get(f"{WORKLOADS}/{theirs}{suffix}", headers=limited)
        assert (forbidden.status_code, forbidden.json()["code"]) == (403, 403), suffix
    missing = api.client.get(f"{WORKLOADS}/06d16c5d-4728-42fa-b573-3b11820d999f", headers=api.headers)
    assert missing.status_code == 404 and missing.json()["message"] == "Resource id not found."
    assert api.client.get(f"{WORKLOADS}/not-a-uuid/events", headers=api.headers).status_code == 404


def test_control_api_load_shows_as_a_workload_of_its_type(api: Api) -> None:
    load = {"name": "notebook", "projectId": "1", "compute": {"gpuDevicesRequest": 2}, "priority": 100}
    created = api.client.post("/api/mock/v1/workloads", json=load)
    assert created.status_code == 201
    api.advance(2)
    shown = workload(api, created.json()["workloadId"])
    assert (shown["type"], shown["phase"], shown["preemptible"]) == ("Workspace", "Running", False)
    assert shown["allocatedResources"]["gpu"] == 2 and shown["actionsSupport"]["suspend"] is False
    assert [w["type"] for w in listed(api, "?filterBy=type==Workspace")] == ["Workspace"]

"""Property: after any sequence of client and cluster actions, every view tells the same story as the
cluster's own snapshot — a training's `actualPhase`, its workload's `phase`, the list, the count, the
pods and each project's allocation. Bounded (few examples, short sequences) and derandomized."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.app import create_app
from tests.conftest import get_token, training

WORKLOADS = "/api/v1/workloads"

actions = st.lists(
    st.one_of(
        st.tuples(
            st.just("create"),
            st.sampled_from(["1", "3", "4"]),
            st.sampled_from([1, 2, 4, 0.5]),
            st.sampled_from([1, 2]),
        ),
        st.tuples(st.sampled_from(["suspend", "resume", "delete", "preempt", "unload"]), st.integers(0, 7)),
        st.tuples(st.just("advance"), st.integers(1, 6)),
        st.tuples(st.just("load"), st.sampled_from(["1", "3"]), st.sampled_from([2, 4])),
    ),
    min_size=1,
    max_size=10,
)


@pytest.fixture(scope="module", params=["2.18", "latest"])
def client(request: pytest.FixtureRequest) -> Iterator[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with create_app(api=request.param).test_client() as test_client:
            yield test_client


def _compute(gpus: float) -> dict[str, Any]:
    if gpus < 1:
        return {"gpuDevicesRequest": 1, "gpuRequestType": "portion", "gpuPortionRequest": gpus}
    return {"gpuDevicesRequest": gpus}


def _play(client: Any, auth: dict[str, str], steps: list[tuple[Any, ...]]) -> None:
    trainings: list[str] = []
    loads: list[str] = []
    for n, step in enumerate(steps):
        verb = step[0]
        if verb == "create":
            body = training(f"t{n}", project=step[1], compute=_compute(step[2]), parallelism=step[3])
            created = client.post("/api/v1/workloads/trainings", json=body, headers=auth)
            assert created.status_code in (200, 202), created.text
            trainings.append(created.json()["workloadId"])
        elif verb == "advance":
            client.post("/api/mock/v1/clock/advance", json={"seconds": step[1]})
        elif verb == "load":
            body = {"name": f"l{n}", "projectId": step[1], "compute": {"gpuDevicesRequest": step[2]}}
            loads.append(
                client.post("/api/mock/v1/workloads", json={**body, "priority": 100}).json()["workloadId"]
            )
        elif verb == "unload" and loads:
            client.delete(f"/api/mock/v1/workloads/{loads.pop(step[1] % len(loads))}")
        elif verb == "preempt" and trainings:
            target = trainings[step[1] % len(trainings)]
            client.post(f"/api/mock/v1/trainings/{target}/outcome", json={"outcome": "Preempted"})
        elif verb in ("suspend", "resume") and trainings:
            client.post(
                f"/api/v1/workloads/trainings/{trainings[step[1] % len(trainings)]}/{verb}", headers=auth
            )
        elif verb == "delete" and trainings:
            client.delete(f"/api/v1/workloads/trainings/{trainings[step[1] % len(trainings)]}", headers=auth)


def _gpus_of(pods: list[dict[str, Any]]) -> float:
    total = 0.0
    for pod in pods:
        total += sum(d["fraction"] for d in pod["devices"])
        if pod.get("migProfile"):
            total += int(pod["migProfile"].split("g.")[0])
    return round(total, 6)


def _check(client: Any, auth: dict[str, str]) -> None:
    snapshot = client.get("/api/mock/v1/snapshot").json()
    jobs = {j["id"]: j for j in snapshot["jobs"]}
    shown = client.get(f"{WORKLOADS}?limit=500", headers=auth).json()["workloads"]
    by_id = {w["id"]: w for w in shown}
    expected = {t["workloadId"] for t in snapshot["trainings"]} | {x["workloadId"] for x in snapshot["loads"]}
    assert set(by_id) == expected
    assert client.get(f"{WORKLOADS}/count", headers=auth).json()["count"] == len(shown)

    for item in snapshot["trainings"]:
        workload = client.get(f"{WORKLOADS}/{item['workloadId']}", headers=auth).json()
        training_view = client.get(f"/api/v1/workloads/trainings/{item['workloadId']}", headers=auth).json()
        assert workload["phase"] == item["actualPhase"] == training_view["actualPhase"]
        assert by_id[item["workloadId"]]["phase"] == item["actualPhase"]
    for workload_id, workload in by_id.items():
        placed = jobs[workload_id]["pods"] if workload_id in jobs else []
        assert workload["allocatedResources"]["gpu"] == _gpus_of(placed), workload_id
        pods = client.get(f"{WORKLOADS}/{workload_id}/pods", headers=auth).json()["pods"]
        on_nodes = sorted(p["nodeName"] for p in pods if p["nodeName"] is not None)
        if workload["type"] == "Training":
            assert on_nodes == sorted(p["node"] for p in placed), workload_id

    for figures in snapshot["projects"]:
        allocated = round(sum(pool["allocated"] for pool in figures["nodePools"].values()), 6)
        project = client.get(f"/api/v1/org-unit/projects/{figures['id']}", headers=auth).json()
        assert round(project["status"]["quotaStatus"]["allocated"]["gpu"], 6) == allocated
        mine = [w for w in shown if w["projectId"] == figures["id"]]
        assert round(sum(w["allocatedResources"]["gpu"] for w in mine), 6) == allocated


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(steps=actions)
def test_every_view_agrees_with_the_cluster(client: Any, steps: list[tuple[Any, ...]]) -> None:
    client.post("/api/mock/v1/reset", headers={"X-Mock-Control": "1"})
    auth = {"Authorization": f"Bearer {get_token(client)}"}
    _play(client, auth, steps)
    _check(client, auth)
    client.post("/api/mock/v1/clock/advance", json={"seconds": 3})
    _check(client, auth)

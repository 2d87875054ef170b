"""Kubernetes Job semantics under every training, on the manual clock: `completions` pods succeed,
`parallelism` at a time; `backoffLimit` counts failed pods; `restartPolicy` OnFailure restarts the
container in its pod; pods that cannot start (image, secret, PVC) fail or wait as on a real cluster; the
workload's phase follows its pods (docs/fidelity.md)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mockserver.app import create_app
from tests.conftest import Api, get_token, training

CONTROL = "/api/mock/v1"


@pytest.fixture
def latest() -> Iterator[Api]:
    """The latest API version: it has restartPolicy and terminationGracePeriodSeconds (2.18 has not)."""
    with create_app(api="latest").test_client() as client:
        yield Api(client, {"Authorization": f"Bearer {get_token(client)}"})


def pods(api: Api, workload: str) -> list[dict[str, Any]]:
    answer = api.client.get(f"/api/v1/workloads/{workload}/pods", headers=api.headers)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["pods"])


def workload(api: Api, workload_id: str) -> dict[str, Any]:
    answer = api.client.get(f"/api/v1/workloads/{workload_id}", headers=api.headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def events(api: Api, workload_id: str) -> list[dict[str, Any]]:
    answer = api.client.get(f"/api/v1/workloads/{workload_id}/events", headers=api.headers)
    return list(answer.json()["events"])


def run(api: Api, workload_id: str, seconds: int) -> list[tuple[str, list[dict[str, Any]]]]:
    """The workload's phase and pods, second by second."""
    seen = []
    for _ in range(seconds):
        seen.append((workload(api, workload_id)["phase"], pods(api, workload_id)))
        api.advance(1)
    return seen


def phases_of(pod_list: list[dict[str, Any]]) -> list[str]:
    return [p["k8sPhase"] for p in pod_list]


def test_parallelism_two_completions_four_runs_four_pods_two_at_a_time(api):
    created = api.create(training("hpo", parallelism=2, completions=4, command="sleep 1")).json()
    seen = run(api, created["workloadId"], 14)
    assert max(phases_of(p).count("Running") for _, p in seen) == 2
    assert all(phases_of(p).count("Running") <= 2 for _, p in seen)
    final = pods(api, created["workloadId"])
    assert phases_of(final) == ["Succeeded"] * 4
    assert len({p["name"] for p in final}) == 4
    assert workload(api, created["workloadId"])["phase"] == "Completed"
    assert workload(api, created["workloadId"])["requestedPods"]["completions"] == 4
    # Not Completed after the first two pods: the second pair had to run too.
    first_done = next(i for i, (_, p) in enumerate(seen) if "Succeeded" in phases_of(p))
    assert seen[first_done][0] != "Completed"


def test_completions_one_runs_one_pod_whatever_the_parallelism(api):
    created = api.create(training("one", parallelism=4, completions=1, command="sleep 2")).json()
    seen = run(api, created["workloadId"], 8)
    assert all(len(p) <= 1 for _, p in seen)
    shown = workload(api, created["workloadId"])
    assert shown["phase"] == "Completed"
    assert shown["requestedPods"] == {
        "number": 4,
        "parallelism": 4,
        "completions": 1,
        "min": None,
        "max": None,
    }


def test_parallelism_one_completions_three_runs_three_pods_in_turn(api):
    created = api.create(training("serial", parallelism=1, completions=3, command="sleep 5")).json()
    seen = run(api, created["workloadId"], 12)
    assert all(phases_of(p).count("Running") <= 1 for _, p in seen)
    assert seen[-1][0] == "Running"  # the first pod's end (about 9 s in) did not complete it
    run(api, created["workloadId"], 20)
    assert phases_of(pods(api, created["workloadId"])) == ["Succeeded"] * 3
    assert workload(api, created["workloadId"])["phase"] == "Completed"


def test_backoff_limit_counts_failed_pods(api):
    body = training("crashy", parallelism=2, completions=2, command="sleep 2; exit 1", backoffLimit=2)
    created = api.create(body).json()
    for _ in range(200):
        if workload(api, created["workloadId"])["phase"] == "Failed":
            break
        failed = phases_of(pods(api, created["workloadId"])).count("Failed")
        assert failed <= 3  # backoffLimit + 1 failed pods before the workload fails
        api.advance(1)
    shown = workload(api, created["workloadId"])
    assert shown["phase"] == "Failed"
    assert (
        "BackoffLimitExceeded" in shown["phaseMessage"] or "backoffLimit 2 reached" in shown["phaseMessage"]
    )
    assert phases_of(pods(api, created["workloadId"])).count("Failed") == 3


def test_restart_policy_on_failure_restarts_the_container_in_its_pod(latest):
    api = latest
    body = training("again", command="sleep 3; exit 1", backoffLimit=2, restartPolicy="OnFailure")
    created = api.create(body).json()
    seen = run(api, created["workloadId"], 60)
    nodes = {p["nodeName"] for _, pod_list in seen for p in pod_list if p["nodeName"]}
    names = {p["name"] for _, pod_list in seen for p in pod_list}
    assert len(names) == 1 and len(nodes) == 1  # one pod, on one node, all along
    assert "Pending" not in [phase for phase, _ in seen[5:]]  # never re-queued
    assert workload(api, created["workloadId"])["phase"] == "Failed"
    reasons = [e["reason"] for e in events(api, created["workloadId"])]
    assert reasons.count("BackOff") == 2  # two restarts (backoffLimit 2), the third failure ends it


def test_an_unpullable_image_fails_with_image_pull_back_off(api):
    created = api.create(training("nopull", image="registry.invalid/team/app:1")).json()
    workload_id = created["workloadId"]
    api.advance(5)
    shown = workload(api, workload_id)
    assert shown["phase"] == "Initializing" and shown["phaseMessage"].startswith("ErrImagePull")
    api.advance(10)
    shown = workload(api, workload_id)
    assert shown["phaseMessage"].startswith("ImagePullBackOff: Back-off pulling image")
    assert any(c.get("message", "").startswith("ImagePullBackOff") for c in shown["conditions"])
    reasons = [(e["reason"], e["involvedObject"]["kind"]) for e in events(api, workload_id)]
    assert ("Failed", "Pod") in reasons and ("BackOff", "Pod") in reasons
    api.advance(60)
    shown = workload(api, workload_id)
    assert shown["phase"] == "Failed" and shown["phaseMessage"].startswith("ImagePullBackOff")
    assert phases_of(pods(api, workload_id)) == ["Failed"]


def test_a_missing_secret_is_a_create_container_config_error(api):
    env = [{"name": "PASSWORD", "secret": {"name": "no-such-secret", "key": "password"}}]
    created = api.create(training("nosecret", environmentVariables=env)).json()
    api.advance(5)
    shown = workload(api, created["workloadId"])
    assert shown["phaseMessage"] == 'CreateContainerConfigError: secret "no-such-secret" not found'
    api.advance(60)
    assert workload(api, created["workloadId"])["phase"] == "Failed"


def test_a_listed_secret_and_pvc_let_the_pod_start(api):
    env = [{"name": "PASSWORD", "secret": {"name": "my-secret", "key": "password"}}]
    storage = {"pvc": [{"claimName": "my-pvc", "existingPvc": True, "path": "/data"}]}
    created = api.create(training("fine", environmentVariables=env, storage=storage)).json()
    api.advance(5)
    assert workload(api, created["workloadId"])["phase"] == "Running"


def test_a_missing_pvc_keeps_the_workload_pending(api):
    storage = {"pvc": [{"claimName": "nowhere", "existingPvc": True, "path": "/data"}]}
    created = api.create(training("nopvc", storage=storage)).json()
    api.advance(300)
    shown = workload(api, created["workloadId"])
    assert shown["phase"] == "Pending"
    assert 'persistentvolumeclaim "nowhere" not found' in shown["phaseMessage"]
    # A PVC the workload creates itself (existingPvc false) is no obstacle.
    storage = {"pvc": [{"claimName": "nowhere", "existingPvc": False, "path": "/data"}]}
    created = api.create(training("newpvc", storage=storage)).json()
    api.advance(5)
    assert workload(api, created["workloadId"])["phase"] == "Running"


def test_pending_until_every_pod_is_scheduled(api):
    # 40 one-GPU pods do not fit the default pool: the few that are placed do not make it Running.
    created = api.create(training("wide", parallelism=40, completions=40)).json()
    api.advance(10)
    shown = workload(api, created["workloadId"])
    pod_list = pods(api, created["workloadId"])
    assert any(p["nodeName"] for p in pod_list) and not all(p["nodeName"] for p in pod_list)
    assert shown["phase"] == "Pending"


def test_a_failed_pod_among_running_ones_degrades_the_workload(api, client):
    created = api.create(training("pair", parallelism=2, completions=2, backoffLimit=3)).json()
    workload_id = created["workloadId"]
    api.advance(5)
    assert workload(api, workload_id)["phase"] == "Running"
    forced = client.post(f"{CONTROL}/trainings/{workload_id}/outcome", json={"outcome": "ContainerFailure"})
    assert forced.status_code == 202
    assert workload(api, workload_id)["phase"] == "Degraded"
    assert sorted(phases_of(pods(api, workload_id))) == ["Failed", "Running"]
    api.advance(20)  # the replacement, after the back-off (10 s), is scheduled and runs
    assert workload(api, workload_id)["phase"] == "Running"
    assert sorted(phases_of(pods(api, workload_id))) == ["Failed", "Running", "Running"]


def test_deleting_is_visible_then_the_workload_goes(api):
    created = api.create(training("gone")).json()
    api.advance(5)
    assert api.delete(created["workloadId"]).status_code == 204
    assert api.phase(created["workloadId"]) == "Deleting"
    api.advance(1)
    assert api.phase(created["workloadId"]) == "404"


def test_restart_policy_is_not_read_where_the_version_lacks_it(api):
    # 2.18 has no restartPolicy: the default (Never) makes a new pod for each failure.
    body = training("old", command="sleep 3; exit 1", backoffLimit=1, restartPolicy="OnFailure")
    created = api.create(body).json()
    run(api, created["workloadId"], 40)
    assert phases_of(pods(api, created["workloadId"])) == ["Failed", "Failed"]


def test_the_grace_period_bounds_deleting(latest):
    api = latest
    created = api.create(training("quick", terminationGracePeriodSeconds=0)).json()
    api.advance(5)
    api.delete(created["workloadId"])
    api.advance(0)
    assert api.phase(created["workloadId"]) == "404"


def test_a_deleted_workload_ends_in_a_final_phase_in_the_deleted_view(api):
    finished = api.create(training("done", command="sleep 1")).json()["workloadId"]
    running = api.create(training("busy", command="sleep 999")).json()["workloadId"]
    api.advance(8)
    assert workload(api, finished)["phase"] == "Completed"
    api.delete(finished)
    api.delete(running)
    api.advance(3)
    listed = api.client.get("/api/v1/workloads?deleted=true", headers=api.headers).json()["workloads"]
    phases = {w["id"]: w["phase"] for w in listed}
    assert phases == {finished: "Completed", running: "Stopped"}
    filtered = api.client.get("/api/v1/workloads?deleted=true&filterBy=phase==Deleting", headers=api.headers)
    assert filtered.json()["workloads"] == []


def test_finished_pods_stay_listed_until_the_workload_goes(api):
    created = api.create(training("kept", parallelism=2, completions=2, command="sleep 1; exit 3")).json()
    workload_id = created["workloadId"]
    api.advance(6)
    failed = pods(api, workload_id)
    assert phases_of(failed) == ["Failed", "Failed"]
    assert all(p["completedAt"] is not None and p["allocatedResources"]["gpu"] == 0 for p in failed)
    api.delete(workload_id)
    assert phases_of(pods(api, workload_id)) == ["Failed", "Failed"]  # still Deleting
    api.advance(2)
    assert pods(api, workload_id) == []  # gone with the workload (still listed as deleted)


def test_mig_profile_of_a_2_18_pod_and_workload_is_a_string(api):
    # 2.18's AllocatedResources.migProfile is a MigProfile: one string, not a list.
    body = training("sliced", compute={"gpuRequestType": "migProfile", "migProfile": "1g.5gb"})
    created = api.create(body).json()
    api.advance(5)
    assert workload(api, created["workloadId"])["allocatedResources"]["migProfile"] == "1g.5gb"
    assert [p["allocatedResources"]["migProfile"] for p in pods(api, created["workloadId"])] == ["1g.5gb"]


def test_the_storage_section_of_the_config_is_checked():
    import yaml

    from mockserver.cluster.errors import ConfigError
    from mockserver.config import DEFAULT_CONFIG, config_from_dict

    data = yaml.safe_load(DEFAULT_CONFIG.read_text())
    loaded = config_from_dict(data, "default")
    assert "my-pvc" in loaded.topology.claims and "postgress_secret" in loaded.topology.secrets
    for bad, where in (
        ({"pvcs": "my-pvc"}, "storage.pvcs"),
        ({"secrets": [1]}, "storage.secrets"),
        ({"volumes": []}, "storage.volumes"),
    ):
        with pytest.raises(ConfigError, match=where.replace(".", r"\.")):
            config_from_dict({**data, "storage": bad}, "test")


def test_project_cpu_quota_is_in_millicores(api):
    # The official `Resources` schema: "CPU in Millicores" (the default config gives project 4 32000 m).
    answer = api.client.get("/api/v1/org-unit/projects", headers=api.headers)
    assert answer.status_code == 200, answer.text
    project = next(p for p in answer.json()["projects"] if p["id"] == "4")
    pool_b = next(r for r in project["resources"] if r["nodePool"]["name"] == "my-node-pool-b")
    assert pool_b["cpu"]["deserved"] == 32000 and pool_b["cpu"]["limit"] == 64000


def test_a_disconnected_cluster_shows_unknown_until_it_is_connected_again(api, client):
    created = api.create(training("cut", command="sleep 20")).json()["workloadId"]
    api.advance(5)
    assert api.phase(created) == "Running"
    answer = client.put(f"{CONTROL}/faults", json={"clusterConnected": False})
    assert answer.status_code == 200 and answer.json()["clusterConnected"] is False
    assert api.phase(created) == "Unknown"
    assert workload(api, created)["phase"] == "Unknown"
    listed = api.client.get("/api/v1/workloads", headers=api.headers).json()["workloads"]
    assert [w["phase"] for w in listed] == ["Unknown"]
    api.advance(30)  # the cluster went on meanwhile: the training ended
    assert api.phase(created) == "Unknown"
    client.put(f"{CONTROL}/faults", json={"clusterConnected": True})
    assert api.phase(created) == "Completed"

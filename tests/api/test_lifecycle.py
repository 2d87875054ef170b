"""A training's life through the API on a manual clock: phases, suspend, resume, delete, failures."""

from __future__ import annotations

from tests.conftest import CLUSTER_ID, corrected_seed_request, seed_request_as_published, training


def test_seed_example_corrected_is_accepted_and_reaches_running(api):
    response = api.create(corrected_seed_request())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["desiredPhase"] == "Running" and body["actualPhase"] == "Creating"
    assert body["requestedName"] == "my-workload-name"
    assert body["name"].startswith("my-workload-name-") and len(body["name"]) == len("my-workload-name-") + 5
    assert body["projectId"] == "1" and body["departmentId"] == "2" and body["clusterId"] == CLUSTER_ID
    assert body["spec"] == corrected_seed_request()["spec"]
    assert api.phases_over(body["workloadId"], 5) == ["Creating", "Pending", "Initializing", "Running"]


def test_seed_example_as_published_names_both_type_errors(api):
    response = api.create(seed_request_as_published())
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == 400
    fields = {issue["field"] for issue in body["complianceIssues"]}
    assert fields == {"projectId", "spec.compute.extendedResources[0].quantity"}
    assert "projectId" in body["message"] and "extendedResources[0].quantity" in body["message"]


def test_suspend_resume_delete(api):
    workload = api.create(training()).json()["workloadId"]
    api.phases_over(workload, 4)
    assert api.phase(workload) == "Running"

    suspended = api.action(workload, "suspend")
    assert suspended.status_code == 202 and suspended.json() == {
        "code": 202,
        "message": "Request has been accepted.",
    }
    assert api.get(workload).json()["desiredPhase"] == "Stopped"
    assert api.phases_over(workload, 2) == ["Stopping", "Stopped"]

    assert api.action(workload, "resume").status_code == 202
    assert api.get(workload).json()["desiredPhase"] == "Running"
    assert api.phases_over(workload, 5) == ["Resuming", "Pending", "Initializing", "Running"]

    deleted = api.delete(workload)
    assert deleted.status_code == 204 and deleted.content == b""
    # Pods take time to terminate (timing.deleting): Deleting is visible first, then the training goes.
    assert api.get(workload).json()["actualPhase"] == "Deleting"
    api.advance(1)
    missing = api.get(workload)
    assert missing.status_code == 404
    assert missing.json() == {"code": 404, "message": "Resource id not found."}


def test_suspend_while_pending_goes_to_stopped_and_frees_the_queue(api):
    workload = api.create(training()).json()["workloadId"]
    api.advance(1)
    assert api.phase(workload) == "Pending"
    api.action(workload, "suspend")
    assert api.phases_over(workload, 2) == ["Stopping", "Stopped"]


def test_repeated_actions_are_accepted_no_ops(api):
    workload = api.create(training()).json()["workloadId"]
    api.phases_over(workload, 4)
    assert api.action(workload, "resume").status_code == 202  # not suspended: nothing to do
    assert api.get(workload).json()["actualPhase"] == "Running"
    api.action(workload, "suspend")
    api.advance(2)
    assert api.action(workload, "suspend").status_code == 202
    assert api.phase(workload) == "Stopped"
    assert api.delete(workload).status_code == 204
    assert api.delete(workload).status_code == 204  # still Deleting: the repeat is a no-op
    api.advance(1)
    assert api.delete(workload).status_code == 404


def test_suspend_after_a_resume_while_stopping_wants_stopped_again(api):
    workload = api.create(training()).json()["workloadId"]
    api.phases_over(workload, 4)
    api.action(workload, "suspend")
    api.action(workload, "resume")
    api.action(workload, "suspend")  # found by fuzzing: it used to leave desiredPhase Running
    read = api.get(workload).json()
    assert (read["actualPhase"], read["desiredPhase"]) == ("Stopping", "Stopped")
    assert api.phases_over(workload, 4) == ["Stopping", "Stopped"]


def test_resume_while_stopping_continues_to_run(api):
    workload = api.create(training()).json()["workloadId"]
    api.phases_over(workload, 4)
    api.action(workload, "suspend")
    api.action(workload, "resume")
    # Stopped lasts no time at all: the desired phase is Running again by then.
    assert api.phases_over(workload, 6) == ["Stopping", "Resuming", "Pending", "Initializing", "Running"]


def test_annotations_set_duration_and_outcome(api):
    annotations = [{"name": "mock.runai/duration", "value": "10"}]
    workload = api.create(training(annotations=annotations)).json()["workloadId"]
    assert api.phases_over(workload, 16) == ["Creating", "Pending", "Initializing", "Running", "Completed"]


def test_failures_restart_up_to_backoff_limit_then_fail(api, client):
    annotations = [
        {"name": "mock.runai/duration", "value": "5"},
        {"name": "mock.runai/outcome", "value": "Failed"},
    ]
    workload = api.create(training(annotations=annotations, backoffLimit=2)).json()["workloadId"]
    # Like a Kubernetes Job's pod: a crash frees the devices, and the replacement goes back through the
    # scheduler after an exponential back-off (10 s, then 20 s).
    assert api.phases_over(workload, 10) == ["Creating", "Pending", "Initializing", "Running", "Pending"]
    snapshot = client.get("/api/mock/v1/snapshot").json()
    held = next(t for t in snapshot["trainings"] if t["workloadId"] == workload)
    assert held["restarts"] == 1 and held["pendingReason"].startswith("Back-off restarting failed container")
    assert not any(workload in (d.get("holders") or []) for n in snapshot["nodes"] for d in n["devices"])
    seen = api.phases_over(workload, 80)
    assert seen == ["Pending", "Initializing", "Running", "Pending", "Initializing", "Running", "Failed"]
    snapshot = client.get("/api/mock/v1/snapshot").json()
    assert next(t for t in snapshot["trainings"] if t["workloadId"] == workload)["restarts"] == 3


def test_auto_deletion_after_completion(api):
    annotations = [{"name": "mock.runai/duration", "value": "3"}]
    body = training(annotations=annotations, autoDeletionTimeAfterCompletionSeconds=15)
    workload = api.create(body).json()["workloadId"]
    api.advance(10)
    assert api.phase(workload) == "Completed"
    api.advance(15)
    assert api.get(workload).status_code == 404


def test_prefix_names_get_a_suffix_and_long_prefixes_are_cut(api):
    first = api.create({**training("job"), "useGivenNameAsPrefix": True}).json()
    second = api.create({**training("job"), "useGivenNameAsPrefix": True}).json()
    assert first["requestedName"] == "job" and first["name"] != second["name"]
    long = api.create({**training("a" * 70), "useGivenNameAsPrefix": True}).json()
    assert len(long["name"]) == 63 and long["requestedName"] == "a" * 70


def test_name_rules_and_duplicates(api):
    for bad in ("Upper", "9lives", "ends-", "a" * 64, "under_score"):
        response = api.create(training(bad))
        assert response.status_code == 400, bad
        assert response.json()["complianceIssues"][0]["field"] == "name"
    assert api.create(training("same")).status_code == 200
    duplicate = api.create(training("same"))
    assert duplicate.status_code == 400
    assert "already exists" in duplicate.json()["complianceIssues"][0]["details"]
    assert api.create(training("same", project="3")).status_code == 200  # another project may reuse it


def test_unknown_project_cluster_and_node_pool_are_named(api):
    body = training(nodePools=["no-such-pool"])
    body["projectId"], body["clusterId"] = "999", "00000000-0000-4000-8000-000000000000"
    response = api.create(body)
    assert response.status_code == 400
    assert {i["field"] for i in response.json()["complianceIssues"]} == {
        "projectId",
        "clusterId",
        "spec.nodePools",
    }


def test_compute_rules(api):
    cases = {
        "spec.compute.gpuPortionRequest": {"gpuRequestType": "portion"},
        "spec.compute.gpuPortionLimit": {
            "gpuRequestType": "portion",
            "gpuPortionRequest": 0.5,
            "gpuPortionLimit": 0.2,
        },
        "spec.compute.gpuMemoryRequest": {"gpuRequestType": "memory"},
        "spec.compute.gpuRequestType": {
            "gpuRequestType": "memory",
            "gpuDevicesRequest": 2,
            "gpuMemoryRequest": "1G",
        },
        "spec.compute.migProfile": {"gpuRequestType": "migProfile"},
        "spec.compute.cpuMemoryLimit": {"cpuMemoryRequest": "2G", "cpuMemoryLimit": "1G"},
        "spec.compute.gpuDevicesRequest": {"gpuDevicesRequest": -1},
    }
    for field, compute in cases.items():
        response = api.create(training(compute=compute))
        assert response.status_code == 400, field
        assert field in {i["field"] for i in response.json()["complianceIssues"]}, (field, response.json())

"""The latest API version (`mockserver --api latest`): what differs from 2.18."""

from __future__ import annotations

import dataclasses

import pytest

from mockserver.app import create_app
from mockserver.config import load_config
from tests.conftest import Api, get_token, training

CONTROL = "/api/mock/v1"


@pytest.fixture
def latest():
    config = load_config()
    slow_delete = dataclasses.replace(config, timing=dataclasses.replace(config.timing, deleting=2))
    with create_app(slow_delete, api="latest").test_client() as client:
        yield Api(client, {"Authorization": f"Bearer {get_token(client)}"})


def test_create_is_202_and_trainings_carry_deleted_at(latest):
    response = latest.create(training())
    assert response.status_code == 202
    assert response.json()["actualPhase"] == "Creating" and response.json()["deletedAt"] is None


def test_delete_is_202_with_a_body_and_sets_deleted_at(latest):
    workload = latest.create(training()).json()["workloadId"]
    latest.advance(10)
    deleted = latest.delete(workload)
    assert deleted.status_code == 202 and deleted.json() == {
        "code": 202,
        "message": "Request has been accepted.",
    }
    during = latest.get(workload).json()
    assert during["actualPhase"] == "Deleting" and during["desiredPhase"] == "Deleted"
    assert during["deletedAt"] == "2025-01-01T00:00:10.000Z"
    latest.advance(2)
    assert latest.get(workload).status_code == 404


def test_token_answer_says_when_it_expires(latest):
    body = {"grantType": "client_credentials", "clientID": "mock-app", "clientSecret": "mock-secret"}
    answer = latest.client.post("/api/v1/token", json=body).json()
    assert answer["expiresIn"] == 3600 and answer["accessToken"]


def test_preemptibility_overrides_the_priority_class(latest):
    body = training("pinned", priorityClass="low", preemptibility="non-preemptible")
    workload = latest.create(body).json()["workloadId"]
    latest.advance(3)
    jobs = {job["id"]: job for job in latest.client.get(f"{CONTROL}/snapshot").json()["jobs"]}
    assert jobs[workload]["preemptible"] is False
    assert jobs[workload]["priority"] == 40


def test_unknown_priority_class_is_named(latest):
    response = latest.create(training(priorityClass="urgent"))
    assert response.status_code == 400
    assert response.json()["complianceIssues"] == [
        {"field": "spec.priorityClass", "details": "priority 'urgent' is not available in this cluster"}
    ]


def test_mig_profiles_are_not_part_of_latest(latest):
    response = latest.create(training(compute={"gpuRequestType": "migProfile", "migProfile": "1g.5gb"}))
    assert response.status_code == 400
    assert "gpuRequestType" in response.json()["message"]


def test_2_18_does_not_show_deleted_at(api):
    assert "deletedAt" not in api.create(training()).json()


def test_default_priority_is_the_train_category_default_low(latest):
    # Later Run:ai versions give the Train category priority Low (preemptible) by default.
    workload = latest.create(training("plain")).json()["workloadId"]
    latest.advance(3)
    jobs = {job["id"]: job for job in latest.client.get(f"{CONTROL}/snapshot").json()["jobs"]}
    assert jobs[workload]["priority"] == 40 and jobs[workload]["preemptible"] is True


def test_2_18_ignores_preemptibility_a_later_field(api, client):
    workload = api.create(training("pinned", preemptibility="non-preemptible")).json()["workloadId"]
    api.advance(3)
    jobs = {job["id"]: job for job in client.get(f"{CONTROL}/snapshot").json()["jobs"]}
    assert jobs[workload]["priority"] == 50 and jobs[workload]["preemptible"] is True

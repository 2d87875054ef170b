"""The official Python client, unmodified, against a live server on loopback (manual clock)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from contracts.backend.server import LocalServer, fake_command
from tests.conftest import training
from tests.live import runapy


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer.start(fake_command(seed=3)) as live:
        yield live


def test_runapy_through_the_whole_lifecycle(server):
    control = httpx.Client(base_url=server.base_url + "/api/mock/v1")

    def advance(seconds: int) -> None:
        assert control.post("/clock/advance", json={"seconds": seconds}).status_code == 200

    config = runapy.Configuration(
        client_id="mock-app", client_secret="mock-secret", runai_base_url=server.base_url
    )
    client = runapy.RunaiClient(runapy.ApiClient(config))
    trainings = client.workloads.trainings

    # runapy 1.224 checks fields against the latest API's patterns, which the 2.18 seed example fails
    # (secret name 'postgress_secret'); a plain training is what its users send.
    request = runapy.TrainingCreationRequest.from_dict(training("runapy-job", nodePools=["my-node-pool-a"]))
    created = trainings.create_training1(training_creation_request=request)
    assert created.status_code == 200
    workload = created.data["workloadId"]
    assert created.data["name"] == "runapy-job" and created.data["actualPhase"] == "Creating"

    def phase() -> str:
        return trainings.get_training(workload_id=workload).data["actualPhase"]

    assert phase() == "Creating"
    advance(4)
    assert phase() == "Running"
    suspended = trainings.suspend_training(workload_id=workload)
    assert suspended.status_code == 202 and suspended.data["code"] == 202
    advance(1)
    assert phase() == "Stopped"
    trainings.resume_training(workload_id=workload)
    advance(4)
    assert phase() == "Running"
    assert trainings.delete_training(workload_id=workload).status_code == 204
    assert phase() == "Deleting"  # its pods terminate first (timing.deleting), as on a real cluster
    advance(1)
    with pytest.raises(runapy.NotFoundException):
        trainings.get_training(workload_id=workload)
    client.close()

"""Distributed trainings through runapy 1.224's `DistributedApi`, unmodified, on a live fake in real time
(no control API): create, get (parsed with runapy's `DistributedWorkload` model), suspend, resume and
delete, with each version's codes; suspend and resume only where the version has them (2.20+)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from contracts.backend.server import LocalServer, fake_command
from mockserver.versions import VERSIONS
from tests.conftest import CLUSTER_ID
from tests.live import runapy
from tests.live.test_runapy_workspaces import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.waits(8)]  # a flow on a real-time clock


@pytest.fixture(scope="module", params=["2.18", "latest"])
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, LocalServer]]:
    command = fake_command(seed=5, clock="realtime", speed=1, api=request.param, real_deployment=True)
    with LocalServer.start(command) as live:
        yield request.param, live


def test_runapy_distributed_create_get_suspend_resume_delete(served: tuple[str, LocalServer]) -> None:
    api, server = served
    version = VERSIONS[api]
    config = runapy.Configuration(
        client_id="mock-app", client_secret="mock-secret", runai_base_url=server.base_url
    )
    client = runapy.RunaiClient(runapy.ApiClient(config))
    dist = client.workloads.distributed
    request = runapy.models.DistributedCreationRequest.from_dict(
        {
            "name": "runapy-ddp",
            "projectId": "1",
            "clusterId": CLUSTER_ID,
            "spec": {
                "image": "nvcr.io/nvidia/pytorch:24.05-py3",
                "compute": {"gpuDevicesRequest": 1},
                "distributedFramework": "PyTorch",
                "numWorkers": 2,
            },
            "masterSpecSameAsWorker": True,
        }
    )
    created = dist.create_distributed(distributed_creation_request=request)
    assert created.status_code == version.create_status
    workload_id = created.data["workloadId"]

    def phase() -> str:
        answer: dict[str, Any] = dist.get_distributed(workload_id=workload_id).data
        parsed = runapy.models.DistributedWorkload.from_dict(answer)
        assert parsed is not None and parsed.spec is not None and parsed.spec.num_workers == 2
        return str(answer["actualPhase"])

    wait_for("phase", phase, lambda p: p == "Running")
    shown = client.workloads.workloads.get_workload(workload_id=workload_id).data
    assert shown["type"] == "Distributed" and shown["requestedPods"]["number"] == 3

    if "suspend" in version.actions["distributed"]:
        assert dist.suspend_distributed(workload_id=workload_id).status_code == 202
        wait_for("phase", phase, lambda p: p == "Stopped")
        assert dist.resume_distributed(workload_id=workload_id).status_code == 202
        wait_for("phase", phase, lambda p: p == "Running")
    else:  # runapy has the call; this version's server has no such path
        with pytest.raises(runapy.ApiException) as refused:
            dist.suspend_distributed(workload_id=workload_id)
        assert refused.value.status in (404, 405)

    deleted = dist.delete_distributed(workload_id=workload_id)
    assert deleted.status_code == version.delete_status

    def gone() -> int:
        try:
            dist.get_distributed(workload_id=workload_id)
        except runapy.ApiException as error:
            return int(error.status or 0)
        return 200

    wait_for("deletion", gone, lambda status: status == 404)

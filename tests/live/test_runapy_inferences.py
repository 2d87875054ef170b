"""Inferences and every workload's pods through runapy 1.224 unmodified, on a live fake in real time
(speed 1, no control API): `InferencesApi` create, get, PATCH (seen passing through Updating back to
Running with the new spec), delete; `PodsApi.list_pods` over the cluster. Answers are parsed with runapy's
own models where they are usable."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from contracts.backend.server import LocalServer, fake_command
from mockserver.versions import VERSIONS
from tests.conftest import CLUSTER_ID
from tests.live import runapy

pytestmark = [pytest.mark.slow, pytest.mark.waits(6)]  # a flow on a real-time clock
WAIT_SECONDS = 30.0  # real seconds any one wait may take before the test fails


@pytest.fixture(scope="module", params=["2.19", "latest"])
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, LocalServer]]:
    command = fake_command(seed=7, clock="realtime", speed=1, api=request.param, real_deployment=True)
    with LocalServer.start(command) as live:
        yield request.param, live


def wait_for(what: str, probe: Callable[[], Any], wanted: Callable[[Any], bool]) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    seen = probe()
    while not wanted(seen):
        assert time.monotonic() < deadline, f"{what}: still {seen!r} after {WAIT_SECONDS} s"
        time.sleep(0.2)
        seen = probe()
    return seen


def test_runapy_inference_create_get_patch_delete_and_pods(served: tuple[str, LocalServer]) -> None:
    api, server = served
    row = VERSIONS[api]
    config = runapy.Configuration(
        client_id="mock-app", client_secret="mock-secret", runai_base_url=server.base_url
    )
    client = runapy.RunaiClient(runapy.ApiClient(config))
    inferences = client.workloads.inferences
    request = runapy.models.InferenceCreationRequest.from_dict(
        {
            "name": "runapy-serve",
            "projectId": "1",
            "clusterId": CLUSTER_ID,
            "spec": {
                "image": "vllm/vllm-openai:v0.6.0",
                "compute": {"gpuDevicesRequest": 1},
                "servingPort": {"container": 8000, "protocol": "http"},
                "autoscaling": {"minReplicas": 1, "maxReplicas": 3},
            },
        }
    )
    created = inferences.create_inference1(inference_creation_request=request)
    assert created.status_code == row.inference_create_status
    workload_id = created.data["workloadId"]

    def read() -> dict[str, Any]:
        answer: dict[str, Any] = inferences.get_inference(workload_id=workload_id).data
        parsed = runapy.models.Inference1.from_dict(answer)
        assert parsed is not None and parsed.workload_id == workload_id
        return answer

    wait_for("phase", lambda: read()["actualPhase"], lambda p: p == "Running")
    shown = client.workloads.workloads.get_workload(workload_id=workload_id).data
    assert shown["type"] == "Inference" and shown["preemptible"] is False and shown["runningPods"] == 1

    update = runapy.models.InferenceUpdateRequest.from_dict(
        {"spec": {"image": "vllm/vllm-openai:v0.6.1", "autoscaling": {"minReplicas": 2, "maxReplicas": 3}}}
    )
    patched = inferences.update_inference_spec(workload_id=workload_id, inference_update_request=update)
    assert patched.status_code == row.inference_patch_status
    assert patched.data["actualPhase"] == "Updating"
    assert runapy.models.Inference1.from_dict(patched.data) is not None
    after = wait_for("phase after PATCH", read, lambda a: a["actualPhase"] == "Running")
    assert after["spec"]["image"] == "vllm/vllm-openai:v0.6.1"
    assert after["spec"]["servingPort"]["container"] == 8000  # merged into the spec, not replaced
    history = client.workloads.events.get_workload_history(workload_id=workload_id).data["records"]
    phases = [r["spec"]["phaseUpdate"]["phase"] for r in history if "phaseUpdate" in r["spec"]]
    assert phases[-2:] == ["Updating", "Running"], phases

    listed = client.workloads.pods.list_pods(verbosity="full").data
    pods = runapy.models.ListPods200Response.from_dict(listed)
    assert pods is not None
    mine = [p for p in pods.pods if p.workload_id == workload_id]
    assert len(mine) == 2 and all(p.node_name and p.k8s_phase == "Running" for p in mine)
    assert {p.workload_name for p in mine} == {"runapy-serve"}
    assert client.workloads.pods.count_pods().data["count"] >= 2

    assert inferences.delete_inference(workload_id=workload_id).status_code == row.delete_status
    with pytest.raises(runapy.NotFoundException):
        wait_for("deletion", read, lambda a: False)
    client.close()

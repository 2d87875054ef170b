"""A disconnected cluster (issue 24, item 2): live workloads read Unknown while the cluster runs on, from a
scenario file and from the `runai_mock` fixture's chaos helper, and read as before once reconnected."""

from __future__ import annotations

import warnings
from typing import Any

from contracts.backend.control import CONTROL_HEADERS, FakeControl
from contracts.mock_extras import ClusterChaos
from mockserver.app import create_app
from mockserver.scenario.model import scenario_from_dict
from mockserver.scenario.runner import run_scenario
from tests.conftest import Api, get_token, training

GPU = {"image": "ubuntu", "compute": {"gpuDevicesRequest": 1}}


def _scenario(*steps: dict[str, Any]) -> Any:
    return scenario_from_dict({"name": "disconnect", "api": "latest", "steps": list(steps)}, "test.yaml")


def test_a_scenario_disconnects_and_reconnects_the_cluster() -> None:
    scenario = _scenario(
        {
            "at": 0,
            "submit": {"kind": "training", "as": "t", "body": {"name": "t", "projectId": "1", "spec": GPU}},
        },
        {"at": 10, "expect": {"workload": "t", "phase": "Running"}},
        {"at": 20, "disconnect": True},
        {"at": 20, "name": "unknown while disconnected", "expect": {"workload": "t", "phase": "Unknown"}},
        {"at": 40, "reconnect": True},
        {"at": 40, "name": "running again", "expect": {"workload": "t", "phase": "Running"}},
    )
    result = run_scenario(scenario)
    assert result.passed, "\n".join(str(f) for f in result.failures)


def test_a_wrong_phase_while_disconnected_fails_by_name() -> None:
    scenario = _scenario(
        {
            "at": 0,
            "submit": {"kind": "training", "as": "t", "body": {"name": "t", "projectId": "1", "spec": GPU}},
        },
        {"at": 20, "disconnect": True},
        {"at": 20, "name": "still running?", "expect": {"workload": "t", "phase": "Running"}},
    )
    result = run_scenario(scenario)
    assert [f.step.name for f in result.failures] == ["still running?"]
    assert "t is Unknown" in str(result.failures[0])


def test_the_fixture_chaos_helper_disconnects_through_the_control_api() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        app = create_app(api="latest")
        with app.test_client() as client:
            api = Api(client, {"Authorization": f"Bearer {get_token(client)}"})
            trainer = api.create(training("t", compute={"gpuDevicesRequest": 1})).json()["workloadId"]
            api.advance(10)
            control = FakeControl("http://testserver")
            with app.test_client(base_url="http://testserver/api/mock/v1", headers=CONTROL_HEADERS) as raw:
                control._client = raw
                chaos = ClusterChaos(control)
                chaos.disconnect()
                assert api.phase(trainer) == "Unknown"  # through the Run:ai API
                api.advance(5)
                chaos.reconnect()
                assert api.phase(trainer) == "Running"

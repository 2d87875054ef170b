"""The control API: clock, reset, determinism, forced outcomes, load, events, configuration."""

from __future__ import annotations

import pytest
import yaml

from mockserver.app import create_app
from mockserver.cluster.errors import ConfigError
from mockserver.config import DEFAULT_CONFIG, config_from_dict, load_config
from mockserver.views.control import snapshot_view
from tests.conftest import Api, get_token, training

CONTROL = "/api/mock/v1"
# What a script sends with a state-changing control call (mockserver/http/controlpages.py).
CHANGE = {"X-Mock-Control": "1"}


def _history(app) -> list:
    """Run one fixed scenario and return every answer and event, for comparing runs."""
    with app.test_client() as client:
        api = Api(client, {"Authorization": f"Bearer {get_token(client)}"})
        answers = [api.create({**training("det"), "useGivenNameAsPrefix": True}).json() for _ in range(3)]
        api.advance(5)
        api.action(answers[0]["workloadId"], "suspend")
        api.advance(3)
        answers += [api.get(a["workloadId"]).json() for a in answers]
        events = client.get(f"{CONTROL}/events").json()["events"]
        return [answers, events, client.get(f"{CONTROL}/snapshot").json()]


def test_same_seed_same_history_and_reset_replays_it():
    first, second = _history(create_app(seed=11)), _history(create_app(seed=11))
    assert first == second
    assert _history(create_app(seed=12))[0][0]["workloadId"] != first[0][0]["workloadId"]
    app = create_app(seed=11)
    _history(app)
    with app.test_client() as client:
        assert client.post(f"{CONTROL}/reset", headers=CHANGE).status_code == 204
    assert _history(app) == first


def test_clock_reads_and_advances(client):
    clock = client.get(f"{CONTROL}/clock").json()
    assert clock == {"mode": "manual", "now": "2025-01-01T00:00:00.000Z", "speed": 0.0}
    moved = client.post(f"{CONTROL}/clock/advance", json={"seconds": 90.5}).json()
    assert moved["now"] == "2025-01-01T00:01:30.500Z"
    assert client.post(f"{CONTROL}/clock/advance", json={"seconds": -1}).status_code == 400


def test_realtime_clock_cannot_be_advanced():
    with create_app(clock="realtime").test_client() as client:
        response = client.post(f"{CONTROL}/clock/advance", json={"seconds": 1})
        assert response.status_code == 409 and "realtime" in response.json()["message"]


def test_forced_outcomes(api, client):
    ids = [api.create(training(f"forced-{i}")).json()["workloadId"] for i in range(3)]
    api.advance(4)

    def force(workload: str, outcome: str):
        return client.post(f"{CONTROL}/trainings/{workload}/outcome", json={"outcome": outcome})

    assert force(ids[0], "Completed").status_code == 202
    assert api.phase(ids[0]) == "Completed"
    assert force(ids[0], "Completed").status_code == 409  # no longer running
    assert force(ids[1], "ContainerFailure").status_code == 202
    # The failed pod frees its devices; its replacement waits out the 10 s back-off, then is scheduled.
    assert api.phases_over(ids[1], 13) == ["Pending", "Initializing", "Running"]
    assert force(ids[2], "Preempted").status_code == 202
    assert api.phases_over(ids[2], 5) == ["Terminating", "Pending", "Initializing", "Running"]
    assert force("00000000-0000-4000-8000-000000000000", "Failed").status_code == 404


def test_terminate_after_preemption_fails_the_training(api, client):
    workload = api.create(training(terminateAfterPreemption=True)).json()["workloadId"]
    api.advance(4)
    client.post(f"{CONTROL}/trainings/{workload}/outcome", json={"outcome": "Preempted"})
    assert api.phase(workload) == "Failed"


def test_events_are_ordered_and_paged(api, client):
    api.create(training())
    api.advance(4)
    events = client.get(f"{CONTROL}/events").json()["events"]
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    phases = [e["phase"] for e in events if e["kind"] == "phase"]
    assert phases == ["Creating", "Pending", "Initializing", "Running"]
    later = client.get(f"{CONTROL}/events", params={"after": events[1]["seq"]}).json()["events"]
    assert later == events[2:]


def test_load_submission_and_removal(client):
    response = client.post(
        f"{CONTROL}/workloads",
        json={
            "name": "notebook",
            "projectId": "1",
            "compute": {"gpuDevicesRequest": 1},
            "preemptible": False,
        },
    )
    assert response.status_code == 201
    load = response.json()
    assert load["name"] == "notebook"
    client.post(f"{CONTROL}/clock/advance", json={"seconds": 2})
    loads = client.get(f"{CONTROL}/snapshot").json()["loads"]
    assert loads[0]["running"] is True
    assert client.delete(f"{CONTROL}/workloads/{load['workloadId']}", headers=CHANGE).status_code == 204
    assert client.delete(f"{CONTROL}/workloads/{load['workloadId']}", headers=CHANGE).status_code == 404
    assert client.post(f"{CONTROL}/workloads", json={"name": "x", "projectId": "404"}).status_code == 400


def test_default_config_loads_with_the_seed_ids():
    config = load_config()
    assert config.topology.cluster_id == "71f69d83-ba66-4822-adf5-55ce55efd210"
    assert config.topology.project("1").department_id == "2"
    assert {"default", "my-node-pool-a", "my-node-pool-b"} <= set(config.topology.node_pools)
    assert config.accounts[0].client_id == "mock-app"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d.pop("accounts"), "accounts"),
        (lambda d: d["accounts"][0].pop("clientSecret"), "accounts[0].clientSecret"),
        (lambda d: d["accounts"][0].update(projects=7), "accounts[0].projects"),
        (lambda d: d["timing"].update(creating=-1), "timing.creating"),
        (lambda d: d["timing"].update(outcome="Exploded"), "timing.outcome"),
        (lambda d: d["timing"].update(warp=1), "timing.warp"),
    ],
)
def test_config_errors_say_where(change, path):
    data = yaml.safe_load(DEFAULT_CONFIG.read_text())
    change(data)
    with pytest.raises(ConfigError) as error:
        config_from_dict(data, "my.yaml")
    assert error.value.path == path and str(error.value).startswith(f"my.yaml: {path}: ")


def test_config_file_problems(tmp_path):
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("cluster: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(broken)


def test_the_snapshot_is_read_at_one_instant(api, client, monkeypatch):
    """Nodes, jobs, trainings and loads come from one hold of the cluster's lock, with time brought up to
    now once: read one after another on a running clock, they disagreed (a device held by a training that
    had gone back to Pending in between)."""
    api.create(training("held"))
    api.advance(60)
    cluster = client.app.mock_state.cluster
    syncs = []
    synced = type(cluster)._synced

    def counting(self):
        syncs.append(1)
        return synced(self)

    monkeypatch.setattr(type(cluster), "_synced", counting)
    snapshot = snapshot_view(cluster)
    assert snapshot["trainings"] and snapshot["nodes"] and len(syncs) == 1
    assert client.get("/api/mock/v1/snapshot").json()["trainings"] == snapshot["trainings"]

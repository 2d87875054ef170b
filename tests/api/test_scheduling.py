"""The scheduler seen through the API: over-quota use, reclaim, preemption, fractions, pending reasons."""

from __future__ import annotations

from tests.conftest import corrected_seed_request, training

CONTROL = "/api/mock/v1"


def _snapshot(client) -> dict:
    return client.get(f"{CONTROL}/snapshot").json()


def _phases(api, ids: list[str]) -> list[str]:
    return [api.phase(i) for i in ids]


def test_over_quota_trainings_are_reclaimed_newest_first(api, client):
    # Project 3 deserves 2 GPUs of the default pool's 8, but may borrow all of them while they are idle.
    borrowed = [api.create(training(f"b-{i}", project="3")).json()["workloadId"] for i in range(8)]
    api.advance(6)
    assert _phases(api, borrowed) == ["Running"] * 8
    # Project 1 deserves 4: it takes them back from project 3's newest trainings.
    owned = [api.create(training(f"a-{i}", project="1")).json()["workloadId"] for i in range(4)]
    api.advance(10)
    assert _phases(api, owned) == ["Running"] * 4
    assert _phases(api, borrowed) == ["Running"] * 4 + ["Pending"] * 4
    events = client.get(f"{CONTROL}/events").json()["events"]
    evicted = [e["workloadId"] for e in events if e["phase"] == "Terminating"]
    assert sorted(evicted) == sorted(borrowed[4:])
    pending = {t["workloadId"]: t for t in _snapshot(client)["trainings"]}
    assert all(pending[w]["pendingReason"] for w in borrowed[4:])


def test_non_preemptible_load_preempts_lower_priority_trainings_of_its_project(api, client):
    ids = [api.create(training(f"t-{i}", project="1")).json()["workloadId"] for i in range(4)]
    api.advance(6)
    assert _phases(api, ids) == ["Running"] * 4
    filler = client.post(
        f"{CONTROL}/workloads",
        json={
            "name": "other-team",
            "projectId": "3",
            "compute": {"gpuDevicesRequest": 4},
            "priority": 50,
            "preemptible": True,
            "nodePools": ["default"],
        },
    ).json()
    api.advance(2)
    assert _snapshot(client)["loads"][0]["running"] is True, filler
    notebook = client.post(
        f"{CONTROL}/workloads",
        json={
            "name": "notebook",
            "projectId": "1",
            "compute": {"gpuDevicesRequest": 2},
            "priority": 100,
            "preemptible": False,
            "nodePools": ["default"],
        },
    )
    assert notebook.status_code == 201
    # The cycle evicts two trainings; the notebook is pipelined onto their GPUs and bound by the first
    # cycle after they have terminated (docs/scheduler.md §2b), not at once.
    api.advance(1.5)
    loads = {load["name"]: load for load in _snapshot(client)["loads"]}
    assert loads["notebook"]["running"] is False
    api.advance(3.5)
    loads = {load["name"]: load for load in _snapshot(client)["loads"]}
    assert loads["notebook"]["running"] is True
    assert _phases(api, ids).count("Running") == 2


def test_seed_example_shares_a_device_by_fraction(api, client):
    first = api.create(corrected_seed_request()).json()["workloadId"]
    second = api.create(corrected_seed_request()).json()["workloadId"]
    api.advance(6)
    assert _phases(api, [first, second]) == ["Running", "Running"]
    shared = [
        device
        for node in _snapshot(client)["nodes"]
        for device in node["devices"]
        if first in device["holders"] or second in device["holders"]
    ]
    assert len(shared) == 1 and shared[0]["allocated"] == 1.0 and set(shared[0]["holders"]) == {first, second}


def test_a_training_that_fits_nowhere_stays_pending_with_a_reason(api, client):
    workload = api.create(training("huge", compute={"gpuDevicesRequest": 9})).json()["workloadId"]
    api.advance(10)
    assert api.phase(workload) == "Pending"
    reason = next(t for t in _snapshot(client)["trainings"] if t["workloadId"] == workload)["pendingReason"]
    assert reason and "GPU" in reason


def test_suspend_releases_gpus_for_waiting_trainings(api):
    running = [
        api.create(training(f"r-{i}", compute={"gpuDevicesRequest": 4})).json()["workloadId"]
        for i in range(2)
    ]
    waiting = api.create(training("waiting", compute={"gpuDevicesRequest": 4})).json()["workloadId"]
    api.advance(6)
    assert _phases(api, running) == ["Running", "Running"] and api.phase(waiting) == "Pending"
    api.action(running[0], "suspend")
    api.advance(5)
    assert api.phase(waiting) == "Running"

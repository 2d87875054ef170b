"""The dashboard in headless Chromium keeps its state by deltas: after creates, phase changes, a delete and
load coming and going, what the page holds equals the control API's snapshot of the cluster."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

# The dashboard tests' live server, browser and page fixtures, shared.
from tests.ui.test_dashboard import NO_BROWSER, api, browser, create, page, server, until  # noqa: F401

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(NO_BROWSER is not None, reason=f"dashboard tests need a browser: {NO_BROWSER}"),
]
CONTROL = {"X-Mock-Control": "1"}


def _held(driver: Any) -> dict[str, Any]:
    return driver.execute_script(  # type: ignore[no-any-return]
        "return {trainings: state.snapshot.workloads.map(t => [t.workloadId, t.actualPhase, t.history.length]),"
        " loads: state.snapshot.loads.map(l => l.workloadId),"
        " jobs: state.snapshot.jobs.map(j => [j.id, j.runningPods]).sort(), now: state.snapshot.now}"
    )


def _truth(client: httpx.Client) -> dict[str, Any]:
    snap = client.get("/api/mock/v1/snapshot").json()
    history = {  # the phases each training went through, as the workloads API's history tells them
        t["workloadId"]: [
            r
            for r in client.get(f"/api/v1/workloads/{t['workloadId']}/history").json()["records"]
            if r["meta"]["type"] == "PhaseUpdate"
        ]
        for t in snap["trainings"]
    }
    return {
        "trainings": [
            [t["workloadId"], t["actualPhase"], len(history[t["workloadId"]])] for t in snap["trainings"]
        ],
        "loads": [load["workloadId"] for load in snap["loads"]],
        "jobs": sorted([j["id"], j["runningPods"]] for j in snap["jobs"]),
        "now": snap["now"],
    }


def test_the_page_follows_deltas_to_the_same_state_as_a_snapshot(page: Any, api: httpx.Client) -> None:  # noqa: F811
    ids = [create(api, f"delta-{i}") for i in range(4)]
    load = {"name": "burst", "projectId": "1", "compute": {"gpuDevicesRequest": 2}, "priority": 125}
    load_id = api.post("/api/mock/v1/workloads", json=load, headers=CONTROL).json()["workloadId"]
    api.post("/api/mock/v1/clock/advance", json={"seconds": 5}, headers=CONTROL).raise_for_status()
    assert api.delete(f"/api/v1/workloads/trainings/{ids[1]}").status_code in (202, 204)
    api.post(f"/api/v1/workloads/trainings/{ids[2]}/suspend").raise_for_status()
    api.delete(f"/api/mock/v1/workloads/{load_id}", headers=CONTROL).raise_for_status()
    api.post("/api/mock/v1/clock/advance", json={"seconds": 3}, headers=CONTROL).raise_for_status()
    truth = _truth(api)
    assert ids[1] not in [t for t, _, _ in truth["trainings"]] and truth["loads"] == []
    until(page, lambda: _held(page) == truth, "the page's state to match the snapshot")
    row = page.find_elements("css selector", f'#workloads tr[data-workload="{ids[1]}"]')
    assert row == []  # the deleted training's row went with its delta

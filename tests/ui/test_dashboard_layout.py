"""The dashboard's layout, units, colours and kinds in headless Chromium, at the two widths a user has
(1280 and 1920 px): nothing overflows, GPUs are counted in devices, colours stay apart, every kind of
workload is listed with its pods as one group, and an eviction is explained in plain words."""

from __future__ import annotations

import colorsys
import itertools
import math
import re
from typing import Any

import httpx
import pytest

# The dashboard tests' live server, browser and page fixtures, shared.
from tests.ui.test_dashboard import CLUSTER_ID, NO_BROWSER, api, browser, create, page, server, until  # noqa: F401

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(NO_BROWSER is not None, reason=f"dashboard tests need a browser: {NO_BROWSER}"),
]
CONTROL = {"X-Mock-Control": "1"}
WIDTHS = (1280, 1920)
LONG_NAME = "a-training-with-a-rather-long-name-that-goes-on-" + "x" * 12


def _submit(client: httpx.Client, path: str, name: str, compute: dict[str, Any], **spec: Any) -> str:
    body = {
        "name": name,
        "projectId": "1",
        "clusterId": CLUSTER_ID,
        "spec": {"image": "busybox", "compute": compute, **spec},
    }
    created = client.post(f"/api/v1/workloads/{path}", json=body)
    assert created.status_code in (200, 202), created.text
    return str(created.json()["workloadId"])


def _busy_cluster(client: httpx.Client) -> dict[str, str]:
    """A table with every sort of row: long names, fractions, MIG, several pods, a workspace, a wait."""
    ids = {
        "long": _submit(client, "trainings", LONG_NAME, {"gpuDevicesRequest": 1}),
        "half": create(client, "half", gpus=0.5),
        "mig": _submit(
            api,
            "trainings",
            "sliced",
            {"gpuDevicesRequest": 1, "gpuRequestType": "migProfile", "migProfile": "2g.10gb"},
        ),
        "pair": _submit(client, "trainings", "pair", {"gpuDevicesRequest": 1}, parallelism=2, completions=2),
        "workspace": _submit(client, "workspaces", "notebook", {"gpuDevicesRequest": 1}),
        "waiting": create(client, "too-big-to-place", gpus=16),
    }
    for i in range(14):
        ids[f"more-{i}"] = create(client, f"more-{i}", gpus=0.25)
    client.post("/api/mock/v1/clock/advance", json={"seconds": 5}, headers=CONTROL).raise_for_status()
    return ids


def _rows(driver: Any) -> list[str]:
    return [
        r.get_attribute("data-workload") for r in driver.find_elements("css selector", "#workloads tbody tr")
    ]


@pytest.mark.parametrize("width", WIDTHS)
def test_nothing_overflows_or_clips_at_common_widths(page: Any, api: httpx.Client, width: int) -> None:  # noqa: F811
    ids = _busy_cluster(api)
    page.set_window_size(width, 1000)
    until(page, lambda: set(_rows(page)) == set(ids.values()), "every workload listed")
    until(page, lambda: page.execute_script("return window.innerWidth") == width, f"the window at {width} px")
    measured = page.execute_script(
        """
        const panel = document.getElementById('workloads-panel').getBoundingClientRect();
        const table = document.getElementById('workloads');
        const buttons = [...document.querySelectorAll('#workloads button.force, .controls button')];
        const clipped = buttons.filter((b) => {
          const r = b.getBoundingClientRect();
          const inside = b.closest('#workloads') ? panel : {left: 0, right: window.innerWidth};
          return r.width === 0 || r.left < inside.left || r.right > inside.right + 0.5;
        }).map((b) => b.id || b.closest('tr').dataset.workload);
        return {
          page: document.documentElement.scrollWidth, window: window.innerWidth,
          table: table.getBoundingClientRect().right, tableScroll: table.scrollWidth,
          panelRight: panel.right, panelWidth: panel.width, clipped: clipped,
          applies: document.querySelectorAll('#workloads button.force').length,
        };
        """
    )
    assert measured["page"] <= measured["window"], measured  # no horizontal scroll bar on the page
    assert measured["table"] <= measured["panelRight"] + 0.5, measured  # the table stays in its panel
    assert measured["tableScroll"] <= measured["panelWidth"], measured
    assert measured["applies"] == len(ids) and measured["clipped"] == [], measured
    # Each Apply button can be clicked where it is drawn: nothing covers it.
    for row_id in (ids["long"], ids["pair"], ids["workspace"]):
        button = page.find_element("css selector", f'#workloads tr[data-workload="{row_id}"] button.force')
        page.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
        on_top = page.execute_script(
            "const r = arguments[0].getBoundingClientRect();"
            "return document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2) === arguments[0];",
            button,
        )
        assert on_top, row_id


def _rgb(hsl: str) -> tuple[float, float, float]:
    hue, saturation, lightness = (float(x) for x in re.findall(r"[\d.]+", hsl))
    r, g, b = colorsys.hls_to_rgb(hue / 360, lightness / 100, saturation / 100)
    return r * 255, g * 255, b * 255


def test_colours_stay_apart_for_many_workloads(page: Any) -> None:  # noqa: F811
    shown = page.execute_script("return Array.from({length: 40}, (_, i) => colorAt(i))")
    assert len(set(shown)) == 40
    closest = min(math.dist(_rgb(a), _rgb(b)) for a, b in itertools.combinations(shown, 2))
    # The hue alone (the golden angle at one lightness) brings the 20th colour within about 12 of an
    # earlier one on this scale; these stay at least 30 apart.
    assert closest >= 30, closest


def test_gpus_are_counted_in_devices_everywhere_on_the_page(page: Any, api: httpx.Client) -> None:  # noqa: F811
    sliced = _submit(
        api,
        "trainings",
        "sliced",
        {"gpuDevicesRequest": 1, "gpuRequestType": "migProfile", "migProfile": "2g.10gb"},
    )
    half = create(api, "half", gpus=0.5)
    api.post("/api/mock/v1/clock/advance", json={"seconds": 5}, headers=CONTROL).raise_for_status()
    until(
        page,
        lambda: page.find_elements("css selector", f'#nodes .slice[data-holder="{sliced}"]'),
        "the slice",
    )
    until(
        page, lambda: page.find_elements("css selector", f'#nodes .seg[data-holder="{half}"]'), "the half GPU"
    )
    # A 2g slice of a 7g GPU is 2/7 of a device; with half a GPU: 0.79 of 34 devices.
    until(page, lambda: page.find_element("id", "gpu-summary").text == "0.79 of 34 GPUs allocated", "total")
    pools = {
        p.get_attribute("data-pool"): p.find_element("css selector", "h3").text
        for p in page.find_elements("css selector", "#nodes .pool")
    }
    assert "0.79 of 10 GPUs allocated" in pools["default"], pools
    # The scheduler charges project 1 for 2 + 0.5 in pool default; the page shows the same devices as above.
    charged = api.get("/api/mock/v1/snapshot").json()
    [project] = [p for p in charged["projects"] if p["id"] == "1"]
    assert project["nodePools"]["default"]["allocated"] == 2.5
    row = page.find_element("css selector", '#quotas tr.project[data-pool="default"][data-id="1"]')
    assert row.find_elements("css selector", "td")[1].text == "0.79 / 4", row.text
    department = project["departmentId"]
    dept_row = page.find_element(
        "css selector", f'#quotas tr.department[data-pool="default"][data-id="{department}"]'
    )
    assert dept_row.find_elements("css selector", "td")[1].text == "0.79 / 6", dept_row.text


def test_every_kind_is_listed_with_a_filter_and_pods_as_one_group(page: Any, api: httpx.Client) -> None:  # noqa: F811
    from selenium.webdriver.support.ui import Select

    training = create(api, "trainer")
    pair = _submit(api, "trainings", "pair", {"gpuDevicesRequest": 1}, parallelism=2, completions=2)
    workspace = _submit(api, "workspaces", "notebook", {"gpuDevicesRequest": 1})
    api.post("/api/mock/v1/clock/advance", json={"seconds": 5}, headers=CONTROL).raise_for_status()
    until(page, lambda: set(_rows(page)) == {training, pair, workspace}, "all three")
    kinds = {
        r.get_attribute("data-workload"): r.get_attribute("data-type")
        for r in page.find_elements("css selector", "#workloads tbody tr")
    }
    assert kinds == {training: "Training", pair: "Training", workspace: "Workspace"}
    badge = page.find_element("css selector", f'#workloads tr[data-workload="{workspace}"] .kind-badge')
    assert badge.text.lower() == "workspace"
    # The two pods of `pair`, in one cell: a head and one line per running pod.
    group = f'#workloads tr[data-workload="{pair}"] .pod-group'
    until(
        page, lambda: page.find_element("css selector", group).get_attribute("data-running") == "2", "2 pods"
    )
    assert page.find_element("css selector", group).get_attribute("data-pods") == "2"
    assert len(page.find_elements("css selector", f"{group} li.pod")) == 2
    assert "2 of 2 pods running" in page.find_element("css selector", group).text
    filter_ = Select(page.find_element("id", "kind-filter"))
    assert [o.get_attribute("value") for o in filter_.options] == ["", "Training", "Workspace"]
    filter_.select_by_value("Workspace")
    until(page, lambda: _rows(page) == [workspace], "only the workspace")
    assert "1 Workspace" in page.find_element("id", "workload-summary").text
    filter_.select_by_value("")
    until(page, lambda: len(_rows(page)) == 3, "every kind again")


def test_the_queue_shows_each_kinds_wait_with_the_schedulers_reason(page: Any, api: httpx.Client) -> None:  # noqa: F811
    big = create(api, "too-big", gpus=16)  # pool default has 8 whole GPUs
    notebook = _submit(api, "workspaces", "big-notebook", {"gpuDevicesRequest": 16})
    api.post("/api/mock/v1/clock/advance", json={"seconds": 3}, headers=CONTROL).raise_for_status()
    for workload_id, kind in ((big, "Training"), (notebook, "Workspace")):
        item = f'#queue li[data-workload="{workload_id}"]'
        until(page, lambda item=item: page.find_elements("css selector", item), f"{kind} queued")
        entry = page.find_element("css selector", item)
        assert entry.get_attribute("data-type") == kind
        reason = api.get(f"/api/v1/workloads/{workload_id}").json()
        assert kind in entry.text and entry.find_element("css selector", ".reason").text, reason
    snapshot = api.get("/api/mock/v1/snapshot").json()
    job_reason = {j["id"]: j["pendingReason"] for j in snapshot["jobs"]}
    until(
        page,
        lambda: (
            job_reason[big] in page.find_element("css selector", f'#queue li[data-workload="{big}"]').text
        ),
        "the scheduler's words",
    )


def test_a_reclaim_is_explained_in_plain_words(page: Any, api: httpx.Client) -> None:  # noqa: F811
    # team-b (project 3, deserving 2 GPUs of pool default) fills the pool's 8 whole GPUs with a training
    # and a load; then team-a (project 1), within its quota of 4, asks for 2 and takes them back.
    body = {
        "name": "borrower",
        "projectId": "3",
        "clusterId": CLUSTER_ID,
        "spec": {"image": "busybox", "compute": {"gpuDevicesRequest": 4}},
    }
    assert api.post("/api/v1/workloads/trainings", json=body).status_code == 200
    load = {
        "name": "borrowing-load",
        "projectId": "3",
        "compute": {"gpuDevicesRequest": 4},
        "preemptible": True,
    }
    api.post("/api/mock/v1/workloads", json=load, headers=CONTROL).raise_for_status()
    api.post("/api/mock/v1/clock/advance", json={"seconds": 5}, headers=CONTROL).raise_for_status()
    projects = {p["id"]: p for p in api.get("/api/mock/v1/snapshot").json()["projects"]}
    assert projects["3"]["nodePools"]["default"]["allocated"] == 8
    create(api, "reclaimer", gpus=2)
    api.post("/api/mock/v1/clock/advance", json={"seconds": 10}, headers=CONTROL).raise_for_status()
    until(page, lambda: page.find_elements("css selector", "#events .explain"), "an explained eviction")
    explained = page.find_element("css selector", "#events .explain").text
    assert explained.startswith("Reclaimed: Project team-b held 8 GPUs in node pool default"), explained
    assert "more than its quota of 2" in explained and "for reclaimer" in explained, explained
    assert "fair" not in explained.lower()

"""The dashboard in a real headless browser against a live `mockserver` on loopback (manual clock)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.cli.live import LiveServer, start
from tests.ui.browser import headless_chromium, why_no_browser

NO_BROWSER = why_no_browser()
# A live server and a browser for the module: seconds each, beyond the unit tests' budget; CI runs them.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(NO_BROWSER is not None, reason=f"dashboard tests need a browser: {NO_BROWSER}"),
]

CLUSTER_ID = "71f69d83-ba66-4822-adf5-55ce55efd210"
# A ceiling, not a measure: on a loaded two-core CI machine a redraw has taken over 15 s.
WAIT_SECONDS = 40
# The default config: whole-GPU tiles on six nodes, MIG slices on node-mig-1 (7 + 2 + 1).
DEFAULT_NODES = [
    "node-default-1",
    "node-default-2",
    "node-mig-1",
    "node-a-1",
    "node-a-2",
    "node-b-1",
    "node-b-2",
]
DEFAULT_GPU_TILES = 4 + 4 + 8 + 8 + 4 + 4
DEFAULT_MIG_SLICES = 7 + 2 + 1


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    live = start("--quiet")
    yield live
    code, _, err = live.stop()
    assert code == 0, err


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    driver = headless_chromium()
    yield driver
    driver.quit()


@pytest.fixture
def api(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        client.post("/api/mock/v1/reset", headers={"X-Mock-Control": "1"}).raise_for_status()
        token = client.post(
            "/api/v1/token", json={"grantType": "app_token", "AppId": "mock-app", "AppSecret": "mock-secret"}
        ).json()["accessToken"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


@pytest.fixture
def page(browser: Any, server: LiveServer, api: httpx.Client) -> Any:
    browser.get_log("browser")  # drop what earlier tests left
    browser.get(f"{server.base_url}/")
    until(browser, lambda: len(browser.find_elements("css selector", "#nodes .node")) > 0, "nodes drawn")
    return browser


def until(browser: Any, condition: Callable[[], Any], what: str) -> Any:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # The page redraws as the stream brings news: an element read mid-redraw is simply read again.
    wait = WebDriverWait(
        browser, WAIT_SECONDS, poll_frequency=0.1, ignored_exceptions=[StaleElementReferenceException]
    )
    return wait.until(lambda _: condition(), message=f"timed out waiting for: {what}")


def create(api: httpx.Client, name: str, gpus: float = 1) -> str:
    compute = (
        {"gpuDevicesRequest": 1, "gpuRequestType": "portion", "gpuPortionRequest": gpus}
        if gpus < 1
        else {"gpuDevicesRequest": gpus}
    )
    created = api.post(
        "/api/v1/workloads/trainings",
        json={
            "name": name,
            "projectId": "1",
            "clusterId": CLUSTER_ID,
            "spec": {"image": "busybox", "compute": compute},
        },
    )
    assert created.status_code == 200, created.text
    return str(created.json()["workloadId"])


def phase_on_screen(browser: Any, workload_id: str) -> str | None:
    cells = browser.find_elements(
        "css selector", f'#workloads tr[data-workload="{workload_id}"] .phase.current'
    )
    return cells[0].text if cells else None


def test_page_loads_with_no_console_errors_and_no_external_request(page: Any, server: LiveServer) -> None:
    until(
        page,
        lambda: page.find_element("id", "live").get_attribute("title") == "live stream: connected",
        "stream",
    )
    resources = page.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources, "the page loaded no resources at all?"
    outside = [url for url in [*resources, page.current_url] if not url.startswith(server.base_url)]
    assert outside == []
    errors = [entry for entry in page.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]
    assert errors == []
    links = {a.text: a.get_attribute("href") for a in page.find_elements("css selector", "header nav a")}
    assert links == {
        "Run:ai API docs": f"{server.base_url}/api/v1/docs/",
        "Control API docs": f"{server.base_url}/api/mock/v1/docs/",
    }
    for href in links.values():
        assert httpx.get(href, timeout=10).status_code == 200


def test_shows_the_default_clusters_nodes_and_gpus(page: Any) -> None:
    nodes = [n.get_attribute("data-node") for n in page.find_elements("css selector", "#nodes .node")]
    assert nodes == DEFAULT_NODES
    assert len(page.find_elements("css selector", "#nodes .gpu")) == DEFAULT_GPU_TILES
    slices = page.find_elements("css selector", '#nodes .slice[data-node="node-mig-1"]')
    assert len(slices) == DEFAULT_MIG_SLICES
    pools = [p.get_attribute("data-pool") for p in page.find_elements("css selector", "#nodes .pool")]
    assert pools == ["default", "my-node-pool-a", "my-node-pool-b"]
    assert page.find_element("id", "gpu-summary").text == "0 of 34 GPUs allocated"
    # Quotas: department 2 (research) deserves 6 GPUs in pool default; nothing allocated yet.
    research = page.find_element("css selector", '#quotas tr.department[data-pool="default"][data-id="2"]')
    assert "0 / 6" in research.text


def test_a_training_created_through_the_api_appears_and_moves_phase(page: Any, api: httpx.Client) -> None:
    workload_id = create(api, "watched", gpus=2)
    until(page, lambda: phase_on_screen(page, workload_id) == "Creating", "the new training, Creating")
    api.post("/api/mock/v1/clock/advance", json={"seconds": 5}).raise_for_status()
    until(page, lambda: phase_on_screen(page, workload_id) == "Running", "the training Running")
    held = page.find_elements("css selector", f'#nodes .gpu .seg[data-holder="{workload_id}"]')
    assert len(held) == 2  # its two GPUs are drawn filled by it
    history = page.find_elements(
        "css selector", f'#workloads tr[data-workload="{workload_id}"] .history .phase'
    )
    assert [h.text for h in history] == ["Creating", "Pending", "Initializing", "Running"]
    until(page, lambda: "watched: entered Running" in page.find_element("id", "events").text, "the event log")


def test_advancing_the_manual_clock_from_the_page(page: Any, api: httpx.Client) -> None:
    workload_id = create(api, "clicked")
    until(page, lambda: phase_on_screen(page, workload_id) == "Creating", "the new training")
    before = page.find_element("id", "clock").text
    assert before == "2025-01-01 00:00:00"
    page.find_element("id", "advance-5").click()
    until(page, lambda: page.find_element("id", "clock").text == "2025-01-01 00:00:05", "the clock at +5 s")
    assert api.get("/api/mock/v1/clock").json()["now"] == "2025-01-01T00:00:05.000Z"
    until(
        page, lambda: phase_on_screen(page, workload_id) == "Running", "the training Running after the click"
    )


def test_a_pending_training_shows_in_the_queue_with_its_reason(page: Any, api: httpx.Client) -> None:
    workload_id = create(api, "too-big", gpus=16)  # pool default has 8 whole GPUs
    api.post("/api/mock/v1/clock/advance", json={"seconds": 3}).raise_for_status()
    selector = f'#queue li[data-workload="{workload_id}"]'
    until(page, lambda: page.find_elements("css selector", selector), "the queue entry")
    assert "Resources were not found" in page.find_element("css selector", selector).text


def test_a_load_from_the_control_api_is_listed_and_drawn_on_its_gpus(page: Any, api: httpx.Client) -> None:
    load = {"name": "notebook", "projectId": "4", "compute": {"gpuDevicesRequest": 2}, "preemptible": False}
    workload_id = api.post("/api/mock/v1/workloads", json=load).json()["workloadId"]
    row = f'#loads tr[data-workload="{workload_id}"]'
    until(
        page,
        lambda: page.find_element("css selector", f"{row} .phase").text == "Pending",
        "the load, pending",
    )
    api.post("/api/mock/v1/clock/advance", json={"seconds": 2}).raise_for_status()  # a scheduling cycle
    until(
        page, lambda: page.find_element("css selector", f"{row} .phase").text == "Running", "the load placed"
    )
    held = page.find_elements("css selector", f'#nodes .gpu .seg[data-holder="{workload_id}"]')
    assert len(held) == 2


def test_forcing_an_outcome_and_reset_from_the_page(page: Any, api: httpx.Client) -> None:
    from selenium.webdriver.support.ui import Select

    workload_id = create(api, "forced")
    api.post("/api/mock/v1/clock/advance", json={"seconds": 5}).raise_for_status()
    until(page, lambda: phase_on_screen(page, workload_id) == "Running", "Running")
    row = f'#workloads tr[data-workload="{workload_id}"]'
    Select(page.find_element("css selector", f"{row} select")).select_by_value("Failed")
    page.find_element("css selector", f"{row} button.force").click()
    until(page, lambda: phase_on_screen(page, workload_id) == "Failed", "Failed after forcing")
    assert api.get(f"/api/v1/workloads/trainings/{workload_id}").json()["actualPhase"] == "Failed"
    page.find_element("id", "reset").click()
    until(page, lambda: phase_on_screen(page, workload_id) is None, "the training gone after reset")
    assert api.get("/api/mock/v1/snapshot").json()["trainings"] == []


# ------------------------------------------------------------------ an exposed server (control token)
CONTROL_TOKEN = "dashboard-test-token"


@pytest.fixture(scope="module")
def exposed() -> Iterator[str]:
    """A fake whose control API wants a token, as `mockserver --expose` makes it; still on loopback."""
    from mockserver.app import create_app
    from tests.threaded import served_in_thread

    with served_in_thread(create_app(control_token=CONTROL_TOKEN)) as base_url:
        yield base_url


def test_an_exposed_server_dashboard_works_with_the_token_in_its_address(browser: Any, exposed: str) -> None:
    httpx.post(
        f"{exposed}/api/mock/v1/reset",
        headers={"Authorization": f"Bearer {CONTROL_TOKEN}", "X-Mock-Control": "1"},
        timeout=60,  # the server runs in a thread of this busy test process
    ).raise_for_status()
    browser.get(f"{exposed}/#token={CONTROL_TOKEN}")
    until(
        browser,
        lambda: browser.find_element("id", "live").get_attribute("title") == "live stream: connected",
        "stream",
    )
    until(browser, lambda: len(browser.find_elements("css selector", "#nodes .node")) == 7, "nodes drawn")
    browser.find_element("id", "advance-30").click()
    until(
        browser,
        lambda: browser.find_element("id", "clock").text == "2025-01-01 00:00:30",
        "the clock at +30 s",
    )


def test_an_exposed_server_dashboard_without_the_token_says_what_to_do(browser: Any, exposed: str) -> None:
    browser.get(f"{exposed}/")
    until(browser, lambda: "/#token=" in browser.find_element("id", "notice").text, "the hint")
    assert browser.find_element("id", "live").get_attribute("title") == "live stream: refused"
    assert browser.find_elements("css selector", "#nodes .node") == []


def test_pointing_at_a_training_outlines_its_gpus(page: Any, api: httpx.Client) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    workload_id = create(api, "pointed", gpus=2)
    api.post("/api/mock/v1/clock/advance", json={"seconds": 5}).raise_for_status()
    until(page, lambda: phase_on_screen(page, workload_id) == "Running", "Running")
    ActionChains(page).move_to_element(
        page.find_element("css selector", f'#workloads tr[data-workload="{workload_id}"] td')
    ).perform()
    focused = page.find_elements("css selector", "#nodes .focus")
    assert [f.get_attribute("data-holder") for f in focused] == [workload_id, workload_id]

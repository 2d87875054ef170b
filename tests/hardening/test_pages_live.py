"""Issue 21 against a live `mockserver`: raw sockets for the head, a real headless Chromium showing a
page of another origin for CSRF and DNS rebinding. Each case asserts the refusal and that nothing
changed on the cluster."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.cli.live import LiveServer, start
from tests.hardening.rawhttp import exchange, request_bytes
from tests.ui.browser import headless_chromium, why_no_browser

pytestmark = pytest.mark.slow  # live servers and a browser: seconds each
NO_BROWSER = why_no_browser()
needs_browser = pytest.mark.skipif(NO_BROWSER is not None, reason=f"needs a browser: {NO_BROWSER}")
CLUSTER_ID = "71f69d83-ba66-4822-adf5-55ce55efd210"
TRAININGS = "/api/v1/workloads/trainings"


@pytest.fixture(scope="module", params=[(), ("--cors", "*")], ids=["default", "cors-star"])
def fake(request: pytest.FixtureRequest) -> Iterator[tuple[LiveServer, dict[str, str], str]]:
    """A live fake (default flags, then `--cors '*'`, once called safe), its token header and a training."""
    live = start("--quiet", *request.param)
    body = {"grantType": "app_token", "AppId": "mock-app", "AppSecret": "mock-secret"}
    token = httpx.post(live.base_url + "/api/v1/token", json=body, timeout=10).json()["accessToken"]
    auth = {"Authorization": f"Bearer {token}"}
    create = {"name": "precious", "projectId": "1", "clusterId": CLUSTER_ID, "spec": {"image": "x"}}
    workload = httpx.post(live.base_url + TRAININGS, json=create, headers=auth, timeout=10).json()[
        "workloadId"
    ]
    yield live, auth, workload
    code, _, err = live.stop()
    assert code == 0, err


def cluster_seen(base_url: str, auth: dict[str, str]) -> Any:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        return (
            client.get("/api/v1/workloads", headers=auth).json(),
            client.get("/api/mock/v1/faults").json(),
            client.get("/api/mock/v1/clock").json(),
        )


def test_duplicated_heads_and_foreign_hosts_are_json_400s_over_raw_sockets(fake: Any) -> None:
    live, auth, _ = fake
    before = cluster_seen(live.base_url, auth)
    body = (
        b'{"name": "sneaky", "projectId": "1", "clusterId": "'
        + CLUSTER_ID.encode()
        + b'", "spec": {"image": "x"}}'
    )
    raw = request_bytes("POST", TRAININGS, {"Content-Type": "application/json"}, body)
    twice_auth = raw.replace(
        b"Connection: close",
        b"Connection: close\r\n"
        + (f"Authorization: {auth['Authorization']}\r\nAuthorization: Bearer garbage".encode()),
    )
    twice_host = raw.replace(b"Connection: close", b"Connection: close\r\nHost: evil.test")
    rebound = raw.replace(b"Host: 127.0.0.1", b"Host: attacker.example:80")
    for case in (twice_auth, twice_host, rebound):
        answer = exchange(live.base_url, case)
        assert (answer.status, answer.json()["code"]) == (400, 400), answer.body
    assert cluster_seen(live.base_url, auth) == before


ATTACK = """<!doctype html><html><body><script>
const fake = "%(fake)s";
const results = {};
async function attempt(name, run) {
  try { const r = await run(); results[name] = r.type === "opaque" ? "opaque" : r.status + " " + (await r.text()); }
  catch (e) { results[name] = "blocked " + e; }
}
(async () => {
  await attempt("reset", () => fetch(fake + "/api/mock/v1/reset", {method: "POST", mode: "no-cors"}));
  await attempt("faults", () => fetch(fake + "/api/mock/v1/faults", {method: "PUT", mode: "cors",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify({latencySeconds: 30, errorRate: 1})}));
  await attempt("faultsForm", () => fetch(fake + "/api/mock/v1/clock/advance", {method: "POST", mode: "no-cors",
      headers: {"Content-Type": "text/plain"}, body: JSON.stringify({seconds: 3600})}));
  await attempt("snapshot", () => fetch(fake + "/api/mock/v1/snapshot", {mode: "cors"}));
  document.title = "done";
  window.results = results;
})();
</script></body></html>"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    driver = headless_chromium()
    yield driver
    driver.quit()


def page_server(html: str) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the standard library names it
            data = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # localhost, not 127.0.0.1: another origin than the fake's, as any web page is.
    return server, f"http://localhost:{server.server_address[1]}/"


def wait_for_title(browser: Any, title: str) -> None:
    deadline = time.monotonic() + 20
    while browser.title != title:
        assert time.monotonic() < deadline, "the page never finished"
        time.sleep(0.1)


@needs_browser
def test_a_page_of_another_origin_cannot_reset_read_or_fault_the_fake(fake: Any, browser: Any) -> None:
    live, auth, workload = fake
    before = cluster_seen(live.base_url, auth)
    server, url = page_server(ATTACK % {"fake": live.base_url})
    try:
        browser.get(url)
        wait_for_title(browser, "done")
        results = browser.execute_script("return window.results")
    finally:
        server.shutdown()
        server.server_close()
    after = cluster_seen(live.base_url, auth)
    assert after == before, results
    assert workload in str(after[0])
    # The page learnt nothing either: the snapshot read was blocked by the browser (no CORS marks).
    assert results["snapshot"].startswith("blocked"), results
    assert not results["faults"].startswith("200"), results


@needs_browser
def test_dns_rebinding_reaches_nothing(fake: Any, browser: Any) -> None:
    """The browser resolves rebind.test to 127.0.0.1 (as a rebinding attacker's DNS would): the page it
    loads and the calls it makes carry `Host: rebind.test`, which the fake does not answer."""
    live, auth, _ = fake
    before = cluster_seen(live.base_url, auth)
    port = live.base_url.rsplit(":", 1)[1]
    rebinding = headless_chromium_mapped("rebind.test")
    try:
        rebinding.get(f"http://rebind.test:{port}/api/mock/v1/snapshot")
        text = rebinding.find_element("tag name", "body").text
        assert '"code": 400' in text and "not a name this server answers to" in text, text
        rebinding.execute_script(
            "fetch('/api/mock/v1/reset', {method: 'POST', headers: {'X-Mock-Control': '1'}})"
            ".then(r => r.text()).then(t => { document.title = t.slice(0, 100); })"
        )
        wait_until(lambda: "not a name this server answers to" in rebinding.title)
    finally:
        rebinding.quit()
    assert cluster_seen(live.base_url, auth) == before


def headless_chromium_mapped(name: str) -> Any:
    import shutil

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or shutil.which("google-chrome") or ""
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     f"--host-resolver-rules=MAP {name} 127.0.0.1"):  # fmt: skip
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


def wait_until(condition: Any) -> None:
    deadline = time.monotonic() + 20
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.1)

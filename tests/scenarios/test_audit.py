"""The client audit: each rule flags what it names and nothing in a well-behaved flow; the report is
Markdown and JUnit; `mockserver --audit FILE` writes it when the server stops."""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from contracts.backend.server import LocalServer, fake_command
from mockserver.app import create_app
from mockserver.handlers.audit import write_audit
from tests.conftest import REPO, Api, get_token, training

CONTROL = "/api/mock/v1"


@pytest.fixture
def fake() -> Iterator[tuple[Any, Any, Api]]:
    app = create_app()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with app.test_client() as client:
            yield app, client, Api(client, {"Authorization": f"Bearer {get_token(client)}"})


def _findings(client: Any) -> list[dict[str, Any]]:
    response = client.get(f"{CONTROL}/audit")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["findings"]
    return found


def _polite_flow(api: Api) -> str:
    """Create, poll every 2 s until Running, suspend, poll until Stopped, delete."""
    workload_id: str = api.create(training("polite")).json()["workloadId"]
    while api.phase(workload_id) != "Running":
        api.advance(2)
    api.action(workload_id, "suspend")
    while api.phase(workload_id) != "Stopped":
        api.advance(2)
    api.delete(workload_id)
    return workload_id


def test_a_polite_flow_is_flagged_with_nothing(fake) -> None:
    _, client, api = fake
    _polite_flow(api)
    assert client.get(f"{CONTROL}/audit").json()["requests"] >= 8
    assert _findings(client) == []


def test_a_get_on_the_post_only_suspend_operation_is_flagged(fake) -> None:
    _, client, api = fake
    workload_id = _polite_flow(api)
    client.get(f"/api/v1/workloads/trainings/{workload_id}/suspend", headers=api.headers)
    [finding] = _findings(client)
    assert finding["check"] == "contract" and finding["caller"] == "mock-app"
    assert finding["request"] == "GET /api/v1/workloads/trainings/{id}/suspend"
    assert "no GET on this path (answered 405)" in finding["message"]


def test_a_malformed_create_is_flagged(fake) -> None:
    _, client, api = fake
    api.create({"name": "no-spec"})
    [finding] = _findings(client)
    assert finding["check"] == "contract" and "create_training1 refused it as malformed" in finding["message"]


def test_polling_without_waiting_is_flagged(fake) -> None:
    _, client, api = fake
    workload_id = api.create(training("eager")).json()["workloadId"]
    for _ in range(5):
        api.get(workload_id)
    [finding] = _findings(client)
    assert finding["check"] == "polling" and finding["count"] == 4
    assert finding["request"] == "GET /api/v1/workloads/trainings/{id}"


def test_reads_after_a_terminal_phase_are_flagged(fake) -> None:
    _, client, api = fake
    workload_id = api.create(training("done")).json()["workloadId"]
    api.advance(10)
    client.post(f"{CONTROL}/trainings/{workload_id}/outcome", json={"outcome": "Completed"})
    for _ in range(2):
        api.advance(5)
        api.get(workload_id)
    assert _findings(client) == []  # the read that saw it, and a last look
    api.advance(5)
    api.get(workload_id)
    [finding] = _findings(client)
    assert finding["check"] == "after_end" and "was Completed, and was read 3 times" in finding["message"]


def test_an_injected_503_says_when_to_come_back_and_retrying_sooner_is_flagged(fake) -> None:
    _, client, api = fake
    workload_id = api.create(training("flaky")).json()["workloadId"]
    client.put(f"{CONTROL}/faults", json={"errorRate": 1.0, "errorStatus": 503})
    answer = api.get(workload_id)
    assert answer.status_code == 503 and answer.headers["retry-after"] == "1"
    api.get(workload_id)
    [finding] = _findings(client)
    assert finding["check"] == "retry_after" and finding["count"] == 1
    assert finding["request"] == "GET /api/v1/workloads/trainings/{id}"
    assert "after a 503 whose Retry-After asked for 1 s" in finding["message"]


def test_waiting_as_long_as_retry_after_says_is_not_flagged(fake) -> None:
    _, client, api = fake
    workload_id = api.create(training("patient")).json()["workloadId"]
    client.put(f"{CONTROL}/faults", json={"errorRate": 1.0, "errorStatus": 503})
    assert api.get(workload_id).status_code == 503
    time.sleep(1.05)  # Retry-After is in real seconds, as a gateway means it
    client.put(f"{CONTROL}/faults", json={"errorRate": 0.0})
    assert api.get(workload_id).status_code == 200
    assert _findings(client) == []


def test_retrying_an_answer_without_retry_after_at_once_is_flagged_as_a_retry_without_delay(fake) -> None:
    app, client, api = fake
    workload_id = api.create(training("bare")).json()["workloadId"]
    client.put(f"{CONTROL}/faults", json={"errorRate": 1.0, "errorStatus": 503})
    first = api.get(workload_id)
    assert first.status_code == 503
    # The same journal with the Retry-After taken out, as another gateway's 503 would come.
    rows = list(app.mock_state.requests._rows)
    app.mock_state.requests._rows.clear()
    for row in rows:
        app.mock_state.requests.add((*row[:-1], None))
    api.get(workload_id)
    checks = {f["check"] for f in _findings(client)}
    assert checks == {"retries"}


def test_tokens_past_their_expiry_and_foreign_tokens_are_flagged(fake) -> None:
    app, client, api = fake
    workload_id = api.create(training("tokens")).json()["workloadId"]
    # Two seconds: `iat` and `exp` are whole seconds, so a one-second token may be past its exp at once.
    app.mock_state.tokens.lifetime = 2
    short = {"Authorization": f"Bearer {get_token(client)}"}
    assert client.get(f"/api/v1/workloads/trainings/{workload_id}", headers=short).status_code == 200
    time.sleep(2.1)  # the token's exp is wall-clock time, as a real control plane's is
    assert client.get(f"/api/v1/workloads/trainings/{workload_id}", headers=short).status_code == 401
    forged = {"Authorization": "Bearer " + api.headers["Authorization"].split()[1][:-4] + "AAAA"}
    assert client.get(f"/api/v1/workloads/trainings/{workload_id}", headers=forged).status_code == 401
    assert client.get(f"/api/v1/workloads/trainings/{workload_id}").status_code == 401
    messages = [f["message"] for f in _findings(client) if f["check"] == "tokens"]
    assert len(messages) == 3
    assert any("past its exp" in m for m in messages) and any("does not accept" in m for m in messages)
    assert any("without a bearer token" in m for m in messages)


def test_the_report_is_markdown_and_junit(fake, tmp_path: Path) -> None:
    app, client, api = fake
    workload_id = api.create(training("report")).json()["workloadId"]
    client.get(f"/api/v1/workloads/trainings/{workload_id}/suspend", headers=api.headers)
    xml = write_audit(app.mock_state, tmp_path / "audit.md")
    page = (tmp_path / "audit.md").read_text()
    assert page.startswith("# Client audit") and "## Requests the contract does not allow" in page
    assert "`GET /api/v1/workloads/trainings/{id}/suspend`" in page
    suite = ElementTree.parse(xml).getroot()
    assert suite.get("tests") == "6" and suite.get("failures") == "1"
    failed = [case.get("name") for case in suite if case.find("failure") is not None]
    assert failed == ["Requests the contract does not allow"]


@pytest.mark.slow
def test_runapy_s_user_flow_is_flagged_with_nothing_and_the_report_is_written_at_stop(tmp_path: Path) -> None:
    import subprocess

    report = tmp_path / "audit.md"
    base = fake_command(seed=5, clock="realtime", speed=20, api="latest", real_deployment=True)
    with LocalServer.start(lambda port: [*base(port), "--audit", str(report)]) as server:
        ran = subprocess.run(
            [sys.executable, str(REPO / "examples" / "runapy_flow.py"), "--url", server.base_url],
            capture_output=True, text=True, timeout=240, cwd=REPO, check=False,
        )  # fmt: skip
        assert ran.returncode == 0, ran.stderr[-2000:]
    page = report.read_text()
    assert "nothing to report" in page, page
    assert ElementTree.parse(report.with_suffix(".xml")).getroot().get("failures") == "0"

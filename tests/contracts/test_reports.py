"""Reports render the same findings three ways, without anything that varies from run to run."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from xml.etree import ElementTree

from contracts.backend.target import Placement
from contracts.oracle.findings import Exchange, Finding
from contracts.reports.write import write_reports
from contracts.run.outcome import RunOutcome, ScenarioResult
from contracts.run.settings import FuzzSettings
from contracts.specs import load_contract

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2ln"
WID = "c8a70639-eb11-47b3-a7a9-c3787c65c1e5"


def outcome() -> RunOutcome:
    finding = Finding(
        check="ErrorBodyShape",
        operation="GET /api/v1/workloads/trainings/{workloadId}",
        title="Contract rule broken: ErrorBodyShape",
        message=f"error body is not a JSON object: '<b>{JWT}</b>'",
        source="fuzzing",
        curl='curl -X GET "$RUNAI_URL"/api/v1/workloads/trainings/x -H "Authorization: Bearer $RUNAI_TOKEN"',
    )
    scenario = ScenarioResult(
        "lifecycle", "create -> ... -> 404.", "failed", ["create -> 200, Creating"], [finding], seconds=1.5
    )
    exchanges = [
        Exchange("POST /api/v1/workloads/trainings", 200, True, WID, "Creating"),
        Exchange("GET /api/v1/workloads/trainings/{workloadId}", 200, True, WID, "Running"),
        Exchange("GET /api/v1/workloads/trainings/{workloadId}", 404, True, WID, None),
        Exchange("GET /api/v1/workloads/trainings/{workloadId}", 418, True, None, None),
    ]
    return RunOutcome(
        target="our fake",
        contract=load_contract(),
        settings=FuzzSettings(),
        run_id="abc123",
        writes="allowed: loopback target",
        placement=Placement("1", "71f69d83-ba66-4822-adf5-55ce55efd210"),
        scenarios=[scenario],
        findings=[finding],
        exchanges=exchanges,
    )


def test_three_reports(tmp_path: Path) -> None:
    paths = write_reports(outcome(), tmp_path)
    assert [p.name for p in paths] == ["junit.xml", "report.md", "report.html"]
    markdown = (tmp_path / "report.md").read_text()
    html = (tmp_path / "report.html").read_text()
    assert markdown.startswith("# Contract run: the backend does not conform (1 finding)")
    assert "Authorization: Bearer $RUNAI_TOKEN" in markdown and JWT not in markdown and "<jwt>" in markdown
    assert "| (created) | Creating | 1 |" in markdown and "| Running | (404) | 1 |" in markdown
    assert "| 1 (undeclared) |" in markdown and "| 418 |" in markdown
    # How far into the lifecycle the operations reached: the GET found the training it had seen Creating.
    assert "| operation | Creating |" in markdown
    assert "| GET /api/v1/workloads/trainings/{workloadId} | 1 |" in markdown
    assert "<b>" not in html and "&lt;b&gt;" in html and "<script" not in html
    suite = ElementTree.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "2"  # the operation and the scenario
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert all(case.get("time") is not None for case in cases.values())
    assert cases["lifecycle"].get("time") == "1.500"
    # Never called, so not reported as passing:
    assert cases["POST /api/v1/workloads/trainings/{workloadId}/suspend"].find("skipped") is not None
    assert cases["POST /api/v1/workloads/trainings"].find("skipped") is None


def test_an_interrupted_run_is_marked_incomplete(tmp_path: Path) -> None:
    interrupted = outcome()
    interrupted.findings = []
    interrupted.scenarios[0].findings = []
    interrupted.incomplete = "interrupted (SIGTERM) after 4 requests"
    interrupted.not_run = ["the rest of the Schemathesis phases: --max-duration budget spent"]
    assert not interrupted.conforms
    write_reports(interrupted, tmp_path)
    markdown = (tmp_path / "report.md").read_text()
    assert markdown.startswith(
        "# Contract run INCOMPLETE (interrupted (SIGTERM) after 4 requests): no verdict"
    )
    assert "Not run: the rest of the Schemathesis phases" in markdown
    suite = ElementTree.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("errors") == "1"
    error = suite.find("testcase[@name='run-wide checks']/error")
    assert error is not None and "incomplete" in (error.get("message") or "")


def test_reports_are_byte_stable(tmp_path: Path) -> None:
    # The reports of one outcome; times differ between runs, but not between renderings of the same one.
    write_reports(outcome(), tmp_path / "a")
    write_reports(outcome(), tmp_path / "b")
    for name in ("junit.xml", "report.md", "report.html"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_junit_stays_well_formed_with_control_characters_from_fuzzed_data(tmp_path: Path) -> None:
    broken = outcome()
    broken.findings = [replace(broken.findings[0], message="body was b'\x00\x1b[31m\ud800'")]
    write_reports(broken, tmp_path)
    failure = ElementTree.parse(tmp_path / "junit.xml").getroot().find(".//failure")
    assert failure is not None and "\\x00\\x1b[31m\\xd800" in (failure.text or "")

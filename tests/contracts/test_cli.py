"""The command line: help, the dry-run plan, exit codes, the auth-only failure, and cleanup of leftovers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest

from contracts.backend.auth import FAKE_CREDENTIALS, TokenSource
from contracts.backend.journal import Journal, leftovers, read_entries
from contracts.backend.safety import writes_policy
from contracts.backend.server import free_port
from contracts.backend.target import Target
from contracts.cli import main
from contracts.oracle.findings import Exchange
from contracts.run.execute import _auth_findings
from contracts.run.fuzz import build_schema
from contracts.run.settings import FuzzSettings
from contracts.specs import GET_OPERATION, load_contract
from tests.conftest import CLUSTER_ID


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in (
        "--url",
        "--token",
        "--client-id",
        "--spec",
        "--allow-writes",
        "--dry-run",
        "--phases",
        "--seed",
    ):
        assert option in text


def test_dry_run_on_a_remote_target_sends_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    # An unresolvable host: any request would fail the run, so exit 0 proves none was sent.
    assert main(["run", "--dry-run", "--url", "https://tenant.invalid", "--token", "t"]) == 0
    plan = capsys.readouterr().out
    assert "refused: not loopback and no --allow-writes" in plan
    assert "skipped:      create, and every lifecycle scenario" in plan
    assert "POST /api/v1/workloads/trainings" in plan


def test_dry_run_with_writes_allowed_shows_what_it_creates(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", "--dry-run", "--url", "https://tenant.invalid", "--allow-writes", "--project-id", "7"]
    assert main([*argv, "--client-id", "app", "--client-secret", "s"]) == 0
    plan = capsys.readouterr().out
    assert "allowed by --allow-writes" in plan and "ct-<run id>" in plan and "project 7" in plan
    assert "lifecycle:" in plan
    # What decides at run time is said up front, as the run decides it:
    assert "preemption: " in plan and "[only where the target is our fake: needs its control API]" in plan


@pytest.mark.parametrize(
    "argv",
    [["run", "--phases", "bogus"], ["run", "--client-id", "only-id"], ["run", "--workers", "0"]],
)
def test_usage_errors_exit_2(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNAI_CLIENT_SECRET", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2


def test_unreadable_spec_exits_2(tmp_path: Path) -> None:
    assert main(["run", "--spec", str(tmp_path / "nope.yaml"), "--report-dir", str(tmp_path)]) == 2


@pytest.fixture
def not_our_fake() -> Iterator[str]:
    """A loopback HTTP server answering 404 to everything: reachable, and not our fake."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _NotFound(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_real_backend_without_credentials_exits_2(
    not_our_fake: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("RUNAI_TOKEN", raising=False)
    assert main(["run", "--url", not_our_fake, "--report-dir", str(tmp_path)]) == 2
    assert "no credentials" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("127.0.0.1:8080", "is not an http:// or https:// URL"),
        ("ftp://127.0.0.1", "is not an http:// or https:// URL"),
        (None, "cannot reach http://127.0.0.1:"),  # nothing listens there
        ("https://tenant.run.ai/api/v1", "drop /api/v1"),  # not "no credentials": the fix
    ],
)
def test_a_target_that_cannot_be_addressed_or_reached_exits_2_in_one_line(
    url: str | None, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = url or f"http://127.0.0.1:{free_port()}"
    assert main(["run", "--url", url, "--token", "t", "--report-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "usage", "says"),
    [
        (["--bogus"], "usage: contracts [", "unrecognized arguments: --bogus"),
        ([], "usage: contracts [", "choose a command"),
        (["run", "--max-examples", "x"], "usage: contracts run", "'x' is not a whole number"),
        (["run", "--bogus"], "usage: contracts run", "unrecognized arguments: --bogus"),
        (["run", "--max-duration", "0"], "usage: contracts run", "more than 0 seconds"),
        (["cleanup"], "usage: contracts cleanup", "--journal"),
    ],
)
def test_usage_errors_say_what_is_wrong_with_the_commands_usage(
    argv: list[str], usage: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(usage) and says in err and "required: COMMAND" not in err


def test_remote_targets_need_allow_writes() -> None:
    remote = Target(base_url="https://tenant.example", control=None)
    assert writes_policy(remote.base_url, allow_writes=False)[0] is False
    assert writes_policy(remote.base_url, allow_writes=True)[0] is True
    assert writes_policy(None, allow_writes=False)[0] is True  # the fake a run starts
    schema = build_schema(load_contract(), remote.base_url, FuzzSettings(), None)
    labels = {result.ok().label for result in schema.get_all_operations()}  # type: ignore[union-attr]
    assert "POST /api/v1/workloads/trainings" not in labels
    assert "GET /api/v1/workloads/trainings/{workloadId}" in labels


@pytest.mark.slow
def test_a_refused_token_is_said_with_its_fix(
    fake: Target, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "run",
        "--url",
        fake.base_url,
        "--token",
        "not-a-token",
        "--phases",
        "examples",
        "--scenarios",
        "",
    ]
    assert main([*argv, "--report-dir", str(tmp_path)]) == 2
    said = capsys.readouterr().err
    assert "refused the token" in said and "--token" in said
    assert "--project-id" not in said  # the wrong hint the issue saw


def test_a_run_whose_every_authenticated_request_was_refused_fails() -> None:
    contract = load_contract()
    label = contract.operation(GET_OPERATION).label
    refused = [Exchange(label, 403, authenticated=True)]
    assert [f.check for f in _auth_findings(contract, refused)] == ["authentication"]
    # The probes are refused on purpose: they do not make a run look as if nothing was accepted.
    probes = [Exchange(label, 401, authenticated=True, probe=True)]
    assert _auth_findings(contract, [*probes, Exchange(label, 200, authenticated=True)]) == []
    assert _auth_findings(contract, probes) == []


@pytest.mark.slow
def test_scenario_only_run_against_a_url(fake: Target, tmp_path: Path) -> None:
    argv = [
        "run",
        "--url",
        fake.base_url,
        "--phases",
        "",
        "--scenarios",
        "lifecycle",
        "--report-dir",
        str(tmp_path),
    ]
    assert main(argv) == 0
    suite = ElementTree.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0"
    assert "| lifecycle | passed |" in (tmp_path / "report.md").read_text()


# A tiny, CPU-only spec of each kind, as the harness creates them.
KIND_SPECS = {
    "trainings": {"image": "busybox"},
    "workspaces": {"image": "busybox"},
    "distributed": {"image": "busybox", "distributedFramework": "PyTorch", "numWorkers": 1},
    "inferences": {"image": "busybox", "servingPort": {"container": 8000}},
}


@pytest.mark.slow
def test_cleanup_deletes_what_a_crashed_run_left(fake: Target, tmp_path: Path) -> None:
    """Every kind is journalled with its collection and deleted through that kind's path."""
    token = TokenSource(fake.base_url, credentials=FAKE_CREDENTIALS).token()
    journal = Journal(tmp_path / "journal-dead01.jsonl", "dead01", fake.base_url, fresh=True)
    created = []
    for number, (kind, spec) in enumerate([*KIND_SPECS.items(), ("trainings", {"image": "busybox"})]):
        body = {"name": f"ct-dead01-{number}", "projectId": "1", "clusterId": CLUSTER_ID, "spec": spec}
        response = httpx.post(
            f"{fake.base_url}/api/v1/workloads/{kind}",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code in (200, 202), response.text
        created.append((kind, response.json()["workloadId"]))
        journal.created(created[-1][1], str(body["name"]), "1", kind)
    assert main(["cleanup", "--journal", str(journal.path)]) == 0
    assert leftovers(journal.path) == []
    deleted = [entry for entry in read_entries(journal.path) if entry.event == "deleted"]
    assert sorted((entry.kind, entry.workload_id) for entry in deleted) == sorted(created)
    for kind, workload_id in created:
        read = httpx.get(
            f"{fake.base_url}/api/v1/workloads/{kind}/{workload_id}",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert read.status_code == 404 or read.json()["desiredPhase"] == "Deleted", (kind, read.text)


@pytest.mark.slow
def test_cleanup_follows_no_kind_it_does_not_know(fake: Target, tmp_path: Path) -> None:
    """A journal naming a collection no kind has (damaged or edited) sends no DELETE there."""
    journal = Journal(tmp_path / "journal-dead02.jsonl", "dead02", fake.base_url, fresh=True)
    journal.created("0b1c2d3e-0000-4000-8000-000000000000", "ct-dead02-1", "1", "../../org-unit/projects")
    assert main(["cleanup", "--journal", str(journal.path)]) == 1
    assert len(leftovers(journal.path)) == 1


@pytest.mark.slow
def test_a_budget_that_leaves_time_for_nothing_gives_no_verdict(tmp_path: Path) -> None:
    # A thousandth of a second: spent before the first scenario whatever the machine (1 s was not, always).
    assert main(["run", "--max-duration", "0.001", "--report-dir", str(tmp_path)]) == 1
    report = (tmp_path / "report.md").read_text()
    assert report.startswith("# Contract run INCOMPLETE (the --max-duration budget left no time")
    assert "Not run: scenario(s) lifecycle" in report
    suite = ElementTree.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    skipped = {case.get("name") for case in suite.iter("testcase") if case.find("skipped") is not None}
    assert {"lifecycle", "backoff", "POST /api/v1/workloads/trainings"} <= skipped


@pytest.mark.slow
def test_the_budget_stops_fuzzing_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A default run takes a minute; eight seconds stop it in its phases, with time to spare for the
    # start-up on a loaded machine.
    argv = ["run", "--max-duration", "8", "--scenarios", "", "--report-dir", str(tmp_path)]
    assert main(argv) == 0
    assert "not run: the rest of the Schemathesis phases" in capsys.readouterr().out
    assert "Not run: the rest of the Schemathesis phases" in (tmp_path / "report.md").read_text()

"""The harness against a hostile backend (issue 21, item 7): it stays inside its limits and its budget,
says why it stopped, writes its reports, shows no secret and leaves no process behind.

The end-to-end cases run `contracts run` as a user does, in a process of its own, against a raw
asyncio server (tests/contracts/hostile_backend.py). The `timeout=` of each is only a guard against a
hang: what is asserted is why the run ended (its exit code and what it wrote), never how long it took.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import requests

from contracts import limits
from contracts.backend.auth import AuthError, Credentials, TokenSource
from contracts.backend.cleanup import delete_leftovers
from contracts.backend.control import FakeControl
from contracts.backend.journal import Journal
from contracts.backend.target import check_url
from contracts.cli import main
from contracts.redaction import MARKER, RedactingStream, Secrets, redact
from contracts.run.capacity import TokenRefused, check_token, read_room
from contracts.run.events import CaseAnswered
from contracts.run.interruption import OVERRUN, hard_limit, last_signal, signals_interrupt
from tests.contracts.hostile_backend import Behaviour, hostile

# Each test makes its own hostile backend: parallel runs may put each on any worker.
pytestmark = pytest.mark.spread
HANG_GUARD = 240  # seconds; far beyond any budget below
DEATH_GUARD = 30  # seconds for the kernel to kill the orphaned fake (it takes milliseconds)
SECRET = "s3cret-never-printed"
REPORTS = ("junit.xml", "report.md", "report.html")


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str
    reports: Path

    def report(self, name: str = "report.md") -> str:
        return (self.reports / name).read_text(encoding="utf-8")

    def everything(self) -> str:
        """All the run printed and wrote."""
        files = [path.read_text(encoding="utf-8", errors="replace") for path in self.reports.glob("*.*")]
        return "\n".join([self.stdout, self.stderr, *files])


def contracts_run(tmp_path: Path, base_url: str, *extra: str, auth: tuple[str, ...] | None = None) -> Ran:
    reports = tmp_path / "reports"
    argv = [sys.executable, "-m", "contracts", "run", "--url", base_url, "--report-dir", str(reports)]
    argv += ["--project-id", "1", "--cluster-id", "8d4d4a1a-1f4a-4b47-9f5e-5a3f7b1b0c11"]
    argv += list(auth or ("--token", "a-fixed-token-for-the-hostile-backend"))
    done = subprocess.run(
        [*argv, *extra],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        cwd=tmp_path,
        env=dict(os.environ),
    )
    return Ran(done.returncode, done.stdout, done.stderr, reports)


def assert_reports_written(ran: Ran) -> None:
    for name in REPORTS:
        assert (ran.reports / name).is_file(), f"{name} missing; stderr:\n{ran.stderr[-2000:]}"
    assert "Traceback" not in ran.stderr


# --- end to end: `contracts run` against the hostile backend ---------------------------------------


def test_an_endless_body_is_refused_at_the_cap_and_reported(tmp_path: Path) -> None:
    with hostile(Behaviour(body="endless")) as backend:
        ran = contracts_run(tmp_path, backend.base_url, "--phases", "examples", "--max-body-size", "1M")
    assert ran.code == 1, ran.stderr[-2000:]
    assert_reports_written(ran)
    refusal = "the answer's body passed the 1 MiB cap (--max-body-size); the rest was not read"
    assert refusal in ran.stdout
    assert refusal in ran.report()
    assert "does NOT conform" in ran.stdout


def test_a_huge_body_is_refused_at_the_default_cap(tmp_path: Path) -> None:
    with hostile(Behaviour(body="huge", huge=200 * 1024 * 1024)) as backend:
        ran = contracts_run(tmp_path, backend.base_url, "--phases", "examples", "--scenarios", "")
    assert ran.code == 1, ran.stderr[-2000:]
    assert_reports_written(ran)
    assert "the answer's body passed the 16 MiB cap (--max-body-size)" in ran.report()


@pytest.mark.waits(12)
@pytest.mark.slow  # waits out its budget
def test_a_trickle_ends_at_the_response_timeout_and_the_run_at_its_budget(tmp_path: Path) -> None:
    # A few bytes every 50 ms: no single read ever waits long enough to time out.
    with hostile(Behaviour(body="trickle")) as backend:
        ran = contracts_run(
            tmp_path,
            backend.base_url,
            *("--phases", "coverage", "--scenarios", ""),
            *("--response-timeout", "1", "--max-duration", "12"),
        )
    assert ran.code == 1, ran.stderr[-2000:]
    assert_reports_written(ran)
    assert "the answer was not complete after 1 s (--response-timeout)" in ran.report()
    assert "not run: the rest of the Schemathesis phases: --max-duration budget spent" in ran.stdout


@pytest.mark.waits(10)
@pytest.mark.slow  # waits out its budget
def test_a_slow_backend_is_held_to_max_duration(tmp_path: Path) -> None:
    # Every answer a well-formed 404 after a while: nothing is refused, the budget alone ends the run.
    with hostile(Behaviour(body="json", delay=0.5)) as backend:
        ran = contracts_run(tmp_path, backend.base_url, "--phases", "coverage", "--max-duration", "10")
    assert_reports_written(ran)
    assert "--max-duration budget spent" in ran.stdout
    assert "--max-duration budget spent" in ran.report()


def test_a_huge_token_stops_the_run_with_a_message_and_reports(tmp_path: Path) -> None:
    with hostile(Behaviour(token="huge", huge=10 * 1024 * 1024)) as backend:
        ran = contracts_run(
            tmp_path, backend.base_url, auth=("--client-id", "app", "--client-secret", SECRET)
        )
    assert ran.code == 2
    assert_reports_written(ran)
    message = "token endpoint answered a token of 10 MiB, over the 16 KiB a request header can carry"
    assert f"contracts: error: {message}" in ran.stderr
    assert message in ran.report()
    assert "INCOMPLETE" in ran.stdout


def test_a_token_endpoint_that_echoes_the_secret_never_gets_it_printed(tmp_path: Path) -> None:
    with hostile(Behaviour(token="echo")) as backend:
        ran = contracts_run(
            tmp_path, backend.base_url, auth=("--client-id", "app", "--client-secret", SECRET)
        )
    assert ran.code == 2
    assert_reports_written(ran)
    assert "token endpoint answered 400" in ran.stderr
    assert MARKER in ran.stderr  # the echo was there, and hidden
    assert SECRET not in ran.everything()


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(child) for child in text]
    return found


def _alive(pid: int) -> bool:
    """Running, or anything but a zombie waiting for a parent that is gone to be reaped."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    state = next(line for line in status.splitlines() if line.startswith("State:"))
    return "Z" not in state.split()[1]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal: Linux only")
def test_the_fake_dies_with_the_harness_even_on_sigkill(tmp_path: Path) -> None:
    harness = subprocess.Popen(
        [sys.executable, "-m", "contracts", "run", "--report-dir", str(tmp_path / "reports")],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=dict(os.environ),
    )
    fakes: list[int] = []
    try:
        assert harness.stderr is not None
        # The first progress line comes once the fake answers: it is up, and the harness's child.
        line = harness.stderr.readline().decode()
        assert "target: our fake" in line, line
        fakes += [
            pid for pid in _children(harness.pid) if "mockserver" in Path(f"/proc/{pid}/cmdline").read_text()
        ]
        assert len(fakes) == 1
        assert _alive(fakes[0])
        harness.send_signal(signal.SIGKILL)
        harness.wait(HANG_GUARD)
        give_up = time.monotonic() + DEATH_GUARD
        while _alive(fakes[0]) and time.monotonic() < give_up:
            time.sleep(0.1)
        assert not _alive(fakes[0]), "the fake outlived the harness"
    finally:
        if harness.poll() is None:
            harness.kill()
            harness.wait()
        if harness.stderr is not None:
            harness.stderr.close()
        for pid in fakes:  # left running only when the test failed
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


# --- the pieces, in this process ----------------------------------------------------------------


def test_httpx_reads_are_capped_and_refused_with_a_message() -> None:
    bounds = limits.Limits(max_body=100 * 1024)
    with (
        hostile(Behaviour(body="endless")) as backend,
        limits.applied(bounds),
        pytest.raises(limits.BodyTooLarge, match="passed the 100 KiB cap") as refused,
    ):
        limits.request(None, "GET", backend.base_url + "/anything")
    assert isinstance(refused.value, httpx.HTTPError)  # so that httpx's callers handle it


def test_a_compressed_bomb_is_capped_on_what_it_expands_to() -> None:
    # 64 MiB of zeros, gzipped to about 64 KiB: the cap counts the bytes it decodes to.
    with (
        hostile(Behaviour(body="bomb", huge=64 * 1024 * 1024)) as backend,
        limits.applied(limits.Limits(max_body=1024 * 1024)),
        limits.bound_session(requests.Session()) as session,
    ):
        with pytest.raises(limits.BodyTooLarge, match="passed the 1 MiB cap"):
            session.get(backend.base_url + "/", timeout=30)
        with pytest.raises(limits.BodyTooLarge, match="passed the 1 MiB cap"):
            limits.request(None, "GET", backend.base_url + "/")


def test_requests_sessions_time_out_a_trickle_in_total() -> None:
    with (
        hostile(Behaviour(body="trickle")) as backend,
        limits.applied(limits.Limits(response_seconds=0.5)),
        limits.bound_session(requests.Session()) as session,
        pytest.raises(limits.ResponseTooSlow, match=r"not complete after 0\.5 s") as refused,
    ):
        session.get(backend.base_url + "/api/v1/workloads", timeout=30)
    assert isinstance(refused.value, requests.Timeout)  # Schemathesis records it as a network error


def test_an_endless_event_stream_is_capped_read_as_a_stream_or_at_once() -> None:
    with (
        hostile(Behaviour(body="events")) as backend,
        limits.applied(limits.Limits(max_body=100 * 1024)),
        limits.bound_session(requests.Session()) as session,
    ):
        url = backend.base_url + "/api/v1/workloads/events"
        with pytest.raises(limits.BodyTooLarge, match="passed the 100 KiB cap"):
            session.get(url, timeout=30)
        # How Schemathesis reads an event stream: as a stream, with read1.
        streamed = session.get(url, timeout=30, stream=True)
        with pytest.raises(limits.BodyTooLarge, match="event stream passed 100 KiB"):
            while streamed.raw.read1(65536, decode_content=True):
                pass
        streamed.close()


def test_nothing_is_sent_once_the_deadline_has_passed() -> None:
    with hostile(Behaviour()) as backend, limits.applied(limits.Limits(deadline=time.monotonic() - 1)):
        with pytest.raises(limits.OutOfTime):
            limits.request(None, "GET", backend.base_url + "/")
        with limits.bound_session(requests.Session()) as session, pytest.raises(limits.OutOfTime):
            session.get(backend.base_url + "/")
    assert backend.behaviour.requests == []


def test_a_wait_cut_short_by_the_deadline_is_the_budget_not_the_backend() -> None:
    """An answer due after the run's deadline: the wait was cut to the deadline, so its timeout means the
    budget is spent (the run reports what it did not run), not that the backend failed (INCOMPLETE)."""
    with hostile(Behaviour(body="json", delay=2)) as backend:
        with (
            limits.applied(limits.Limits(deadline=time.monotonic() + 0.3)),
            pytest.raises(limits.OutOfTime, match="budget ran out while waiting"),
        ):
            limits.request(None, "GET", backend.base_url + "/")
        with (
            limits.applied(limits.Limits(deadline=time.monotonic() + 0.3)),
            limits.bound_session(requests.Session()) as session,
            pytest.raises(limits.OutOfTime, match="budget ran out while waiting") as refused,
        ):
            session.get(backend.base_url + "/", timeout=30)
        assert isinstance(refused.value, requests.Timeout)  # Schemathesis still sees a timeout


def test_cleanup_stops_at_the_deadline_and_says_what_is_left(tmp_path: Path) -> None:
    with hostile(Behaviour(body="json", status=204)) as backend:
        journal = Journal(tmp_path / "journal.jsonl", "abc123", backend.base_url, fresh=True, durable=False)
        for number in range(3):
            journal.created(f"w{number}", f"ct-abc123-{number}", "1")
        tokens = TokenSource(backend.base_url, token="a-fixed-token-for-cleanup")
        with limits.applied(limits.Limits(deadline=time.monotonic() - 1)):
            result = delete_leftovers(journal.path, lambda base_url: tokens, durable=False)
    assert result.deleted == []
    assert len(result.failed) == 3
    assert all("--max-duration budget is spent" in failure for failure in result.failed)
    assert backend.behaviour.requests == []


def test_the_fake_is_not_recognised_in_an_endless_answer() -> None:
    with hostile(Behaviour(body="endless")) as backend, limits.applied(limits.Limits(max_body=100_000)):
        assert FakeControl.detect(backend.base_url) is None


def test_the_token_check_reads_the_status_alone_and_an_endless_room_is_unknown() -> None:
    answered: list[object] = []
    with hostile(Behaviour(body="endless")) as backend, limits.applied(limits.Limits(max_body=100 * 1024)):
        check_token(backend.base_url, "a-fixed-token", answered.append)  # 200: not refused, body unread
        room = read_room(backend.base_url, "a-fixed-token", "1", answered.append)
    assert [event.exchange.status for event in answered if isinstance(event, CaseAnswered)] == [200]
    assert room.gpu_room is None and room.blocked is None
    assert room.lines == [
        "project 1: room unknown, the look-up was not read: GET /api/v1/org-unit/projects/1: the answer's "
        "body passed the 100 KiB cap (--max-body-size); the rest was not read"
    ]


def test_the_token_check_still_sees_a_refused_token_behind_any_body() -> None:
    with hostile(Behaviour(body="json", status=401)) as backend, pytest.raises(TokenRefused):
        check_token(backend.base_url, "a-fixed-token", lambda event: None)


def test_a_fixed_token_too_long_for_a_header_is_refused() -> None:
    with pytest.raises(AuthError, match="over the 16 KiB a header can carry"):
        TokenSource("http://127.0.0.1:9", token="t" * 20_000)


def test_an_echoed_secret_is_hidden_in_the_error_itself() -> None:
    with hostile(Behaviour(token="echo")) as backend:
        source = TokenSource(backend.base_url, credentials=Credentials("app", SECRET))
        with pytest.raises(AuthError) as refused:
            source.token()
    assert SECRET not in str(refused.value)
    assert MARKER in str(refused.value)


def test_a_password_in_the_url_is_a_secret() -> None:
    check_url("https://user:pw-in-the-url@tenant.example")
    assert (
        redact("target: https://user:pw-in-the-url@tenant.example")
        == f"target: https://user:{MARKER}@tenant.example"
    )


def test_secrets_are_hidden_in_every_spelling() -> None:
    secrets = Secrets()
    secrets.add('pa"ss word/1')
    secrets.add("abc")  # too short to be told from ordinary text: left alone
    text = json.dumps({"AppSecret": 'pa"ss word/1'}) + " pa%22ss%20word%2F1 pa%22ss+word%2F1 abc"
    assert secrets.redact(text) == f'{{"AppSecret": "{MARKER}"}} {MARKER} {MARKER} abc'


def test_a_redacting_stream_hides_what_is_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = Secrets()
    secrets.add(SECRET)
    monkeypatch.setattr("contracts.redaction.SECRETS", secrets)
    out = io.StringIO()
    print(f"token endpoint answered 400: {SECRET}", file=RedactingStream(out))  # type: ignore[arg-type]
    assert out.getvalue() == f"token endpoint answered 400: {MARKER}\n"


def test_the_hard_limit_stops_what_escaped_every_other_limit() -> None:
    with pytest.raises(KeyboardInterrupt), signals_interrupt(), hard_limit(0.2):
        time.sleep(HANG_GUARD)
    assert last_signal() == OVERRUN


@pytest.mark.parametrize("size", ["lots", "12", "-5M", "1.5M"])
def test_a_body_cap_that_is_not_a_size_is_a_usage_error(
    size: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--max-body-size", size, "--dry-run"])
    assert exit_info.value.code == 2
    assert "--max-body-size" in capsys.readouterr().err


def test_a_bug_of_ours_is_said_redacted_with_a_usage_exit_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "a-secret-inside-a-crash"
    TokenSource("http://127.0.0.1:9", token=secret)  # the run holds it, as a run would

    def crash(*args: object) -> int:
        raise RuntimeError(f"something quoted {secret}")

    monkeypatch.setattr("contracts.cli._run", crash)
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError: something quoted" in err
    assert "contracts: error: unexpected failure (a bug in contracts; traceback above)" in err
    assert secret not in err


def test_a_request_stopped_at_the_deadline_is_no_backend_error() -> None:
    """Schemathesis reports the deadline's refusal of a request as a network error; the run counts it as
    its budget running out, and other network errors still as errors."""
    from schemathesis.engine import events

    from contracts.run.engine import BUDGET, FuzzResult, _handle

    def error_event(error: Exception) -> events.NonFatalError:
        return events.NonFatalError(error=error, phase=None, label="POST /x", related_to_operation=True)

    result = FuzzResult()
    wrapped = requests.ConnectionError("Network Error")
    wrapped.__cause__ = limits.RequestsOutOfTime("the --max-duration budget is spent")
    _handle(error_event(wrapped), result, lambda event: None, None, None)
    assert result.errors == [] and result.stopped_by == BUDGET
    _handle(error_event(requests.ConnectionError("refused")), result, lambda event: None, None, None)
    assert len(result.errors) == 1 and "POST /x" in result.errors[0]

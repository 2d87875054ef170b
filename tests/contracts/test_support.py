"""Small parts: curl lines, the journal, names and loopback, token expiry and refresh."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from contracts import limits
from contracts.backend.auth import AuthError, Credentials, TokenSource, token_expiry
from contracts.backend.journal import Journal, leftovers, read_entries
from contracts.backend.safety import NameSource, is_loopback, new_run_id
from contracts.oracle.checks import backend_now
from contracts.oracle.rules import created_at_problems
from contracts.reports.curl import curl_line


def test_curl_line_hides_credentials_and_the_base_url() -> None:
    line = curl_line(
        "POST",
        "http://127.0.0.1:4567/api/v1/token",
        {"Authorization": "Bearer abc.def.ghi", "User-Agent": "x", "Content-Type": "application/json"},
        b'{"grantType":"app_token","AppId":"me","AppSecret":"s3cret"}',
        base_url="http://127.0.0.1:4567",
    )
    assert line.startswith('curl -X POST "$RUNAI_URL"/api/v1/token')
    assert '"Authorization: Bearer $RUNAI_TOKEN"' in line
    assert "abc.def" not in line and "s3cret" not in line and "User-Agent" not in line
    assert '"AppId":"me"' in line


def test_curl_line_keeps_deliberately_bad_tokens() -> None:
    line = curl_line("GET", "https://x/a", {"Authorization": "Bearer bogus"}, None, keep_authorization=True)
    assert "Bearer bogus" in line


def test_journal_survives_a_torn_last_line(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl", "abc123", "http://127.0.0.1:1", fresh=True)
    journal.created("w1", "ct-abc123-1", "1")
    journal.created("w2", "ct-abc123-2", "1")
    journal.deleted("w1")
    with journal.path.open("a") as file:
        file.write('{"event": "crea')  # the process died mid-write
    assert [e.workload_id for e in leftovers(journal.path)] == ["w2"]
    assert len(read_entries(journal.path)) == 3


def test_names_and_run_ids() -> None:
    assert new_run_id(7) == new_run_id(7) != new_run_id(8)
    assert len(new_run_id(None)) == 6
    names = NameSource("abc123")
    assert names.next() == "ct-abc123-1"
    assert names.next("life") == "ct-abc123-life-2"


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8080", True),
        ("http://localhost", True),
        ("http://[::1]:80", True),
        ("https://tenant.run.ai", False),
        ("http://10.0.0.5", False),
    ],
)
def test_loopback(url: str, loopback: bool) -> None:
    assert is_loopback(url) is loopback


def jwt(exp: int) -> str:
    payload = base64.urlsafe_b64encode(json.dumps({"exp": exp}).encode()).decode().rstrip("=")
    return f"e30.{payload}.sig"


def test_token_expiry() -> None:
    assert token_expiry(jwt(1234)) == 1234
    assert token_expiry("not-a-jwt") is None


def test_tokens_are_fetched_again_before_they_expire(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    issued: list[str] = []

    def post(client: None, method: str, url: str, json: dict[str, str], timeout: float) -> httpx.Response:
        assert method == "POST" and json["AppId"] == "me" and url.endswith("/api/v1/token")
        issued.append(jwt(int(now[0]) + 3600))
        return httpx.Response(200, json={"accessToken": issued[-1]})

    monkeypatch.setattr(limits, "request", post)
    source = TokenSource("http://x", credentials=Credentials("me", "pw"), clock=lambda: now[0])
    first = source.token()
    now[0] += 3000
    assert source.token() == first
    now[0] += 600  # within the refresh margin of the expiry
    assert source.token() != first
    assert len(issued) == 2


def test_refused_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        limits, "request", lambda *a, **k: httpx.Response(400, json={"code": 400, "message": "no"})
    )
    with pytest.raises(AuthError, match="answered 400"):
        TokenSource("http://x", credentials=Credentials("me", "pw")).token()


class Answered:
    """Just the headers of a Schemathesis response, as `checks.header` reads them."""

    def __init__(self, headers: dict[str, list[str]]) -> None:
        self.headers = headers


def test_the_backend_clock_comes_from_its_date_header() -> None:
    ahead = Answered({"Date": ["Wed, 01 Jan 2031 10:00:00 GMT"]})
    now = backend_now(ahead)  # type: ignore[arg-type]
    assert now == datetime(2031, 1, 1, 10, tzinfo=timezone.utc)
    # A fake running at --speed 10 is hours ahead of the harness: its createdAt is not "in the future".
    assert created_at_problems("2031-01-01T09:59:59Z", now) == []
    assert created_at_problems("2031-01-01T11:00:00Z", now)


def test_without_a_usable_date_header_the_harness_clock_is_used() -> None:
    for headers in ({}, {"date": ["yesterday"]}):
        before = datetime.now(timezone.utc)
        now = backend_now(Answered(headers))  # type: ignore[arg-type]
        assert before <= now <= datetime.now(timezone.utc)

"""The `mockserver` command as a user meets it: environment variables, --version, --port 0, a busy port,
SIGTERM, the request log."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import httpx
import pytest

from contracts.cli import build_parser as contracts_parser
from mockserver.about import package_version
from mockserver.cli import banner, main, parse_args
from tests.cli.live import start

TOKEN_BODY = {"grantType": "app_token", "AppId": "mock-app", "AppSecret": "mock-secret"}
CLUSTER_ID = "71f69d83-ba66-4822-adf5-55ce55efd210"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def test_every_flag_has_an_environment_variable_and_the_command_line_wins(tmp_path: Path) -> None:
    environ = {
        "RUNAI_MOCK_HOST": "::1",
        "RUNAI_MOCK_PORT": "9123",
        "RUNAI_MOCK_CONFIG": str(tmp_path / "c.yaml"),
        "RUNAI_MOCK_CLOCK": "manual",
        "RUNAI_MOCK_SPEED": "2.5",
        "RUNAI_MOCK_SEED": "7",
        "RUNAI_MOCK_API": "latest",
        "RUNAI_MOCK_CORS": "*",
        "RUNAI_MOCK_QUIET": "true",
        "RUNAI_MOCK_LOG_LEVEL": "info",
    }
    args = parse_args([], environ)
    assert (args.host, args.port, args.config, args.clock) == ("::1", 9123, tmp_path / "c.yaml", "manual")
    assert (args.speed, args.seed, args.api, args.cors, args.quiet, args.log_level) == (
        2.5,
        7,
        "latest",
        "*",
        True,
        "info",
    )
    assert parse_args(["--port", "9200", "--api", "2.18"], environ).port == 9200
    assert parse_args([], {}).port == 8080


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("RUNAI_MOCK_PORT", "eighty", "RUNAI_MOCK_PORT='eighty': not a valid value for --port"),
        ("RUNAI_MOCK_CLOCK", "sundial", "RUNAI_MOCK_CLOCK='sundial': must be one of realtime, manual"),
        ("RUNAI_MOCK_QUIET", "maybe", "RUNAI_MOCK_QUIET='maybe': must be one of 1, true"),
    ],
)
def test_a_bad_environment_value_is_a_usage_error_naming_the_variable(
    name: str, value: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args([], {name: value})
    assert exited.value.code == 2
    assert says in capsys.readouterr().err


def test_version_on_both_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+.*|unknown", package_version())
    with pytest.raises(SystemExit) as exited:
        parse_args(["--version"], {})
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"mockserver {package_version()}"
    with pytest.raises(SystemExit) as exited:
        contracts_parser().parse_args(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"contracts {package_version()}"


def test_contracts_takes_the_client_id_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNAI_CLIENT_ID", "app-from-env")
    monkeypatch.setenv("RUNAI_CLIENT_SECRET", "secret-from-env")
    args = contracts_parser().parse_args(["run", "--dry-run"])
    assert (args.client_id, args.client_secret) == ("app-from-env", "secret-from-env")


def test_a_busy_port_is_one_clear_error_before_any_banner(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["--port", str(port), "--clock", "manual"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip().splitlines() == [
        f"mockserver: cannot listen on 127.0.0.1:{port}: Address already in use "
        "(pick another --port, or --port 0 for a free one)"
    ]


@pytest.fixture(scope="module")
def server_output() -> tuple[str, list[str], int, str, str]:
    """One live server for the slow-to-start checks: port 0, the request log, then SIGTERM."""
    server = start()
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        token = http.post("/api/v1/token", json=TOKEN_BODY).json()["accessToken"]
        auth = {"Authorization": f"Bearer {token}"}
        created = http.post(
            "/api/v1/workloads/trainings",
            headers=auth,
            json={"name": "logged", "projectId": "1", "clusterId": CLUSTER_ID, "spec": {"image": "busybox"}},
        ).json()
        assert (
            http.get(f"/api/v1/workloads/trainings/{created['workloadId']}", headers=auth).status_code == 200
        )
        assert http.get("/api/v1/workloads/trainings/not-a-uuid", headers=auth).status_code == 404
    code, out, err = server.stop()
    return server.base_url, server.banner, code, out, err


def test_port_0_prints_the_port_it_picked(server_output: tuple[str, list[str], int, str, str]) -> None:
    base_url, banner, *_ = server_output
    port = int(base_url.rsplit(":", 1)[1])
    assert port not in (0, 8080)
    assert f"  API:          http://127.0.0.1:{port}/api/v1" in banner


def test_sigterm_stops_cleanly_with_exit_code_0(server_output: tuple[str, list[str], int, str, str]) -> None:
    _, _, code, out, err = server_output
    assert code == 0, err
    assert out.rstrip().endswith("mockserver: stopped")
    assert "Traceback" not in err


def test_request_log_has_one_line_per_request(server_output: tuple[str, list[str], int, str, str]) -> None:
    _, _, _, out, _ = server_output
    lines = [line for line in out.splitlines() if re.match(r"\d\d:\d\d:\d\d\.\d{3} ", line)]
    assert len(lines) == 4
    stamp = r"\d\d:\d\d:\d\d\.\d{3}"
    latency = r"\d+\.\dms"
    assert re.fullmatch(rf"{stamp} POST +/api/v1/token 200 {latency} workload=- caller=-", lines[0])
    created = re.fullmatch(
        rf"{stamp} POST +/api/v1/workloads/trainings 200 {latency} workload=({UUID}) caller=mock-app",
        lines[1],
    )
    assert created, lines[1]
    assert re.fullmatch(
        rf"{stamp} GET +/api/v1/workloads/trainings/{created.group(1)} 200 {latency} "
        rf"workload={created.group(1)} caller=mock-app",
        lines[2],
    )
    assert re.fullmatch(
        rf"{stamp} GET +/api/v1/workloads/trainings/not-a-uuid 404 {latency} workload=- caller=mock-app",
        lines[3],
    )


def test_quiet_silences_the_request_log() -> None:
    server = start("--quiet")
    httpx.get(f"{server.base_url}/api/mock/v1/clock", timeout=10).raise_for_status()
    code, out, _ = server.stop()
    assert code == 0
    assert "/api/mock/v1/clock" not in out
    assert out.rstrip().endswith("mockserver: stopped")


def test_banner_shows_the_dashboard_only_with_the_control_api_and_its_token_when_exposed() -> None:
    shown = banner("http://127.0.0.1:8080", "app", "secret", "1", CLUSTER_ID, "manual", "2.18").splitlines()
    assert "  Dashboard:    http://127.0.0.1:8080/" in shown
    exposed = banner(
        "http://10.0.0.5:8080", "app", "secret", "1", CLUSTER_ID, "manual", "2.18", control_token="t0k"
    )
    assert "  Dashboard:    http://10.0.0.5:8080/#token=t0k" in exposed.splitlines()
    real = banner(
        "http://127.0.0.1:8080", "app", "secret", "1", CLUSTER_ID, "realtime", "2.18", control=False
    )
    assert "Dashboard" not in real and "Control docs" not in real and "API docs:" in real

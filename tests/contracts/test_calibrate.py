"""`contracts calibrate`: dwell times from traces, the fake's timing from them, drift between two
measurements; and, end to end, a backend with a timing of its own recovered and reproduced."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from contracts.backend.auth import FAKE_CREDENTIALS
from contracts.backend.server import LocalServer, fake_command
from contracts.calibrate.drift import compare, render, within
from contracts.calibrate.measure import GONE, Measurement, Trace
from contracts.calibrate.profile import timing_from, write_config
from contracts.cli import main
from mockserver.config import DEFAULT_CONFIG, load_config


def trace(*sightings: tuple[str, float]) -> Trace:
    found = Trace()
    for phase, at in sightings:
        found.saw(phase, at)
    return found


def test_dwell_times_leave_out_what_an_action_cut_short() -> None:
    seen = trace(
        ("Creating", 0.0),
        ("Pending", 2.0),
        ("Initializing", 2.5),
        ("Running", 6.0),
        ("(suspend)", 9.0),  # Running lasted until we suspended it: not the backend's time
        ("Running", 9.1),
        ("Stopping", 9.3),
        ("Stopped", 11.3),
        ("(delete)", 12.0),
        ("Deleting", 12.2),
        (GONE, 15.2),
    )
    dwell = seen.dwell()
    assert dwell["Creating"] == [2.0] and dwell["Pending"] == [0.5] and dwell["Initializing"] == [3.5]
    assert dwell["Stopping"] == [2.0] and dwell["Deleting"] == [pytest.approx(3.0)]
    assert "Stopped" not in dwell and "(suspend)" not in dwell and GONE not in dwell
    assert dwell["Running"] == [pytest.approx(0.2)]  # the stale read after suspend; not a timing key


def test_timing_from_a_measurement() -> None:
    measurement = Measurement(
        dwell={"Creating": [2.0, 2.2], "Pending": [0.3, 1.9], "Stopping": [3.0], "Deleting": [5.9, 6.1]}
    )
    timing = timing_from(measurement)
    assert timing == {"creating": 2.1, "stopping": 3.0, "deleting": 6.0, "schedulePeriod": 1.9}
    assert timing_from(Measurement(dwell={"Pending": [0.0]}))["schedulePeriod"] == 0.5  # never 0


def test_the_written_config_starts_the_fake(tmp_path: Path) -> None:
    path = tmp_path / "profile.yaml"
    write_config({"creating": 2.5, "deleting": 6.0}, path)
    config = load_config(path)
    assert config.timing.creating == 2.5 and config.timing.deleting == 6.0
    assert config.topology == load_config(DEFAULT_CONFIG).topology


def test_drift_lists_every_difference() -> None:
    backend = Measurement(dwell={"Deleting": [6.0], "Creating": [2.0]}, auto_deletion=4.1)
    backend.answers = {"create: status": "202", "get: fields": "a, b"}
    fake = Measurement(dwell={"Creating": [2.4]}, auto_deletion=4.0)
    fake.answers = {"create: status": "200", "get: fields": "a, b"}
    whats = {d.what for d in compare(backend, fake)}
    assert whats == {"Deleting lasts", "create: status"}
    assert compare(backend, backend) == []
    report = render("http://x", backend, fake, {"deleting": 6.0}, ["terminating: not measured"])
    assert "## Drift: 2 difference(s)" in report and "| Deleting lasts | 6.0 s | not seen |" in report


@pytest.mark.parametrize(
    ("measured", "expected", "ok"),
    [(3.6, 3.0, True), (5.0, 3.0, False), (0.9, 0.0, True), (12.0, 10.0, True)],
)
def test_within_tolerance(measured: float, expected: float, ok: bool) -> None:
    assert within(measured, expected) is ok


@pytest.mark.waits(35)
@pytest.mark.slow
def test_calibrate_recovers_a_real_deployment_timing_and_the_fake_shows_no_drift(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    timing = {
        "creating": 2,
        "initializing": 3,
        "stopping": 2,
        "resuming": 2,
        "deleting": 3,
        "schedulePeriod": 1,
    }
    config = yaml.safe_load(DEFAULT_CONFIG.read_text())
    config["timing"] = timing
    backend_config = tmp_path / "backend.yaml"
    backend_config.write_text(yaml.safe_dump(config))
    out = tmp_path / "profile.yaml"
    credentials = [
        "--client-id",
        FAKE_CREDENTIALS.client_id,
        "--client-secret",
        FAKE_CREDENTIALS.client_secret,
    ]
    command = fake_command(seed=0, config=backend_config, clock="realtime", real_deployment=True)
    with LocalServer.start(command) as backend:
        exit_code = main(["calibrate", "--url", backend.base_url, *credentials, "--out", str(out)])
    said = capsys.readouterr().out
    assert exit_code == 0, said
    recovered = yaml.safe_load(out.read_text())["timing"]
    for key in ("creating", "initializing", "stopping", "resuming", "deleting"):
        assert within(recovered[key], timing[key]), (key, recovered[key], timing[key])
    assert abs(recovered["schedulePeriod"] - timing["schedulePeriod"]) <= 1.0
    drift = (tmp_path / "profile.drift.md").read_text()
    assert "## Drift: 0 difference(s)" in drift


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--url", "https://tenant.run.ai/api/v1"], "drop /api/v1"),
        (["--url", "https://tenant.run.ai"], "needs --allow-writes"),  # nothing created unasked
    ],
)
def test_calibrate_refuses_what_it_must_not_do(
    extra: list[str], says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["calibrate", *extra, "--out", str(tmp_path / "p.yaml")]) == 2
    assert says in capsys.readouterr().err
    assert not (tmp_path / "p.yaml").exists()

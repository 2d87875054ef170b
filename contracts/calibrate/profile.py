"""From measured dwell times to the fake's `timing`, and the configuration file `mockserver --config`
reads: the embedded default's cluster and accounts, with the measured timing."""

from __future__ import annotations

from pathlib import Path
from statistics import mean
from typing import Any

import yaml

from contracts.calibrate.measure import Measurement
from mockserver.config import DEFAULT_CONFIG, load_config

# timing key <- the phase whose dwell it is (the mean of the samples).
MEAN_OF = {
    "creating": "Creating",
    "initializing": "Initializing",
    "stopping": "Stopping",
    "resuming": "Resuming",
    "deleting": "Deleting",
}
# A training waits Pending for the next scheduling cycle, so its Pending dwell is at most one period:
# the longest sample is the estimate, and a cycle is never shorter than this.
SCHEDULE_PERIOD_FLOOR = 0.5
# Dwell times are measured to a poll interval; a tenth of a second is all a timing needs.
RESOLUTION = 0.1


def _rounded(seconds: float) -> float:
    return round(max(0.0, seconds) / RESOLUTION) * RESOLUTION


def timing_from(measurement: Measurement) -> dict[str, float]:
    """The `timing` keys the measurement speaks for; what it did not see is left out (the fake's
    default then applies, and the drift report says so)."""
    timing = {
        key: round(_rounded(mean(measurement.dwell[phase])), 1)
        for key, phase in MEAN_OF.items()
        if measurement.dwell.get(phase)
    }
    if measurement.dwell.get("Pending"):
        timing["schedulePeriod"] = round(
            max(SCHEDULE_PERIOD_FLOOR, _rounded(max(measurement.dwell["Pending"]))), 1
        )
    return timing


def unmeasured() -> list[str]:
    """The timing keys calibration cannot measure through the public API, and why."""
    return [
        "terminating: needs a preemption, which no client can cause",
        "runDuration, outcome: the container's command decides on a real deployment",
        "restartBackoff, restartBackoffCap: not measured (a failing training takes minutes of back-off)",
    ]


def write_config(timing: dict[str, float], path: Path) -> None:
    """The embedded default configuration with `timing` replaced; checked by loading it as the fake
    would, so that a file that does not start the fake is never written."""
    data: dict[str, Any] = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    data["timing"] = dict(timing)
    text = "# Written by `contracts calibrate`: the fake's default cluster, with the timing measured on a\n"
    text += "# backend. Start it with: mockserver --config THIS_FILE --real-deployment\n"
    text += yaml.safe_dump(data, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    load_config(path)

"""Two measurements of the same script compared, difference by difference: the backend's and our fake's
with the configuration calibrated from it. Run on a schedule, a non-empty report is the canary that the
fake and the real control plane have drifted apart."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import mean

from contracts.calibrate.measure import Measurement
from contracts.calibrate.profile import MEAN_OF

# A dwell time drifts when it differs by more than this fraction of the backend's, and by more than
# TOLERANCE_SECONDS (a poll interval and a request apart are not a drift).
TOLERANCE_FRACTION = 0.25
TOLERANCE_SECONDS = 1.0


@dataclass(frozen=True)
class Difference:
    what: str
    backend: str
    fake: str


def within(measured: float, expected: float) -> bool:
    return abs(measured - expected) <= max(TOLERANCE_FRACTION * expected, TOLERANCE_SECONDS)


def _seconds(samples: list[float] | None) -> str:
    return f"{mean(samples):.1f} s" if samples else "not seen"


def compare(backend: Measurement, fake: Measurement) -> list[Difference]:
    found = []
    phases = [*MEAN_OF.values(), "Pending"]
    for phase in phases:
        ours, theirs = fake.dwell.get(phase), backend.dwell.get(phase)
        if bool(ours) != bool(theirs) or (ours and theirs and not within(mean(ours), mean(theirs))):
            found.append(Difference(f"{phase} lasts", _seconds(theirs), _seconds(ours)))
    if (backend.auto_deletion is None) != (fake.auto_deletion is None) or (
        backend.auto_deletion is not None
        and fake.auto_deletion is not None
        and not within(fake.auto_deletion, backend.auto_deletion)
    ):
        found.append(
            Difference(
                "auto-deletion after Completed",
                f"{backend.auto_deletion:.1f} s" if backend.auto_deletion is not None else "not seen",
                f"{fake.auto_deletion:.1f} s" if fake.auto_deletion is not None else "not seen",
            )
        )
    for key in sorted(set(backend.answers) | set(fake.answers)):
        theirs_text, ours_text = backend.answers.get(key, "(not seen)"), fake.answers.get(key, "(not seen)")
        if theirs_text != ours_text:
            found.append(Difference(key, theirs_text, ours_text))
    found += [Difference("script", problem, "") for problem in backend.problems]
    found += [Difference("script", "", problem) for problem in fake.problems]
    return found


def render(
    backend_url: str, backend: Measurement, fake: Measurement, timing: dict[str, float], notes: list[str]
) -> str:
    """The drift report (Markdown): the measured timing, every difference, and what was not measured."""
    differences = compare(backend, fake)
    lines = [
        f"# Calibration of {backend_url}",
        "",
        "## Timing written",
        "",
        "| key | seconds |",
        "|---|---|",
        *[f"| {key} | {value:g} |" for key, value in timing.items()],
        "",
        "## Dwell times (mean of the samples)",
        "",
        "| phase | backend | fake with this timing |",
        "|---|---|---|",
        *[
            f"| {phase} | {_seconds(backend.dwell.get(phase))} | {_seconds(fake.dwell.get(phase))} |"
            for phase in (*MEAN_OF.values(), "Pending")
        ],
        "",
        f"## Drift: {len(differences)} difference(s)",
        "",
    ]
    if differences:
        lines += ["| what | backend | fake |", "|---|---|---|"]
        lines += [f"| {d.what} | {d.backend} | {d.fake} |" for d in differences]
    else:
        lines.append(
            f"None: every dwell time within {TOLERANCE_FRACTION:.0%} (or {TOLERANCE_SECONDS:g} s), every answer the same."
        )
    lines += ["", "## Not measured", "", *[f"- {note}" for note in notes], ""]
    return "\n".join(lines)

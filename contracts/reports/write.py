"""Write a run's reports into a directory: JUnit XML for CI, Markdown and HTML for people."""

from __future__ import annotations

from pathlib import Path

from contracts.redaction import redact
from contracts.reports import document, html, junit, markdown
from contracts.run.outcome import RunOutcome


def write_reports(outcome: RunOutcome, directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    doc = document.build(outcome)
    files = {
        "junit.xml": junit.render(outcome),
        "report.md": markdown.render(doc),
        "report.html": html.render(doc),
    }
    written = []
    for name, text in files.items():
        path = directory / name
        # Fuzzed data can carry lone surrogates, which no UTF-8 file can hold as they are.
        # And no secret the run holds, whatever answer quoted it (contracts.redaction).
        path.write_text(redact(text), encoding="utf-8", errors="backslashreplace")
        written.append(path)
    return written

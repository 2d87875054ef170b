"""The control API's client audit: what the clients of the Run:ai API did against the contract and good
practice, read from the request journal (`mockserver/audit/`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mockserver.audit import audit, collect
from mockserver.audit.report import junit, markdown
from mockserver.handlers.state import MockState, current


async def control_audit() -> Any:
    state = current()
    given = collect(state.requests, state.cluster)
    findings = audit(given)
    return {
        "requests": len(given.requests),
        "findings": [
            {
                "check": f.check.name.lower(),
                "title": f.check.value,
                "caller": f.caller,
                "request": f.what,
                "count": f.count,
                "message": f.message,
                "firstSeq": f.first_seq,
            }
            for f in findings
        ],
    }, 200


def write_audit(state: MockState, target: Path) -> Path:
    """The Markdown report at `target`, the JUnit one beside it (`.xml`); the JUnit path is returned."""
    given = collect(state.requests, state.cluster)
    findings = audit(given)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(markdown(findings, len(given.requests)), encoding="utf-8")
    xml = target.with_suffix(".xml")
    xml.write_text(junit(findings), encoding="utf-8")
    return xml

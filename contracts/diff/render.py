"""`contracts diff` output: Markdown for people (and docs/versions.md), JSON for tools."""

from __future__ import annotations

import json
from itertools import groupby

from contracts.diff.model import Comparison


def as_json(comparison: Comparison) -> str:
    return json.dumps(
        {
            "old": comparison.old,
            "new": comparison.new,
            "breaking": len(comparison.breaking),
            "changes": [change.as_json() for change in comparison.changes],
        },
        indent=2,
    )


def as_markdown(comparison: Comparison, heading: str = "##") -> str:
    lines = [f"{heading} {comparison.old} → {comparison.new}", ""]
    if not comparison.changes:
        return "\n".join([*lines, "No change a client would feel.", ""])
    breaking = len(comparison.breaking)
    lines += [
        f"{len(comparison.changes)} change(s), {breaking} breaking (a client that worked before may fail).",
        "",
    ]
    for (operation, operation_id), changes in groupby(
        comparison.changes, key=lambda change: (change.operation, change.operation_id)
    ):
        lines.append(
            f"{heading}# `{operation}` ({operation_id})" if operation_id else f"{heading}# `{operation}`"
        )
        lines.append("")
        for change in changes:
            mark = "**breaking** " if change.breaking else ""
            lines.append(f"- {mark}{change.kind.value}: {change.detail}")
        lines.append("")
    return "\n".join(lines)

"""The audit as people and CI read it: a Markdown page and a JUnit file (one test case per check)."""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

from mockserver.audit.checks import Check, Finding


def markdown(findings: Sequence[Finding], requests: int) -> str:
    lines = [
        "# Client audit",
        "",
        f"{requests} Run:ai API requests read from the request journal; "
        + (f"{len(findings)} finding(s)." if findings else "nothing to report."),
        "",
        "| check | findings |",
        "|---|---|",
    ]
    lines += [f"| {check.value} | {sum(1 for f in findings if f.check is check)} |" for check in Check]
    for check in Check:
        mine = [f for f in findings if f.check is check]
        if not mine:
            continue
        lines += [
            "",
            f"## {check.value}",
            "",
            "| caller | request | times | what | first seq |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {_cell(f.caller or '(no caller)')} | `{_cell(f.what)}` | {f.count} | {_cell(f.message)} | {f.first_seq} |"
            for f in mine
        ]
    return "\n".join(lines) + "\n"


def junit(findings: Sequence[Finding]) -> str:
    failed = sum(1 for check in Check if any(f.check is check for f in findings))
    cases = []
    for check in Check:
        mine = [f for f in findings if f.check is check]
        body = ""
        if mine:
            text = "\n".join(f"{f.caller or '(no caller)'}: {f.what} x{f.count}: {f.message}" for f in mine)
            body = f"<failure message={quoteattr(f'{len(mine)} finding(s)')}>{escape(text)}</failure>"
        cases.append(f'<testcase classname="client-audit" name={quoteattr(check.value)}>{body}</testcase>')
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuite name="client-audit" tests="{len(Check)}" failures="{failed}">'
        + "".join(cases)
        + "</testsuite>\n"
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")

"""JUnit XML for CI: one test case per operation, per lifecycle scenario, and one for run-wide findings.

No `time` or `timestamp` attributes: the file must be identical for identical runs.
"""

from __future__ import annotations

from xml.etree import ElementTree

from contracts.findings import Finding
from contracts.outcome import RunOutcome
from contracts.reports.document import mask_tokens

SUITE = "contracts"


def render(outcome: RunOutcome) -> str:
    cases: list[tuple[str, str, list[str], bool]] = []  # (classname, name, failure texts, skipped)
    scenario_ops = {f"scenario {s.name}" for s in outcome.scenarios}
    for op in outcome.contract.operations.values():
        texts = [
            _text(f) for f in outcome.findings if f.operation == op.label and f.source not in scenario_ops
        ]
        cases.append(("contracts.operations", op.label, texts, False))
    for scenario in outcome.scenarios:
        texts = [_text(f) for f in scenario.findings]
        cases.append(("contracts.scenarios", scenario.name, texts, scenario.outcome == "skipped"))
    labels = {op.label for op in outcome.contract.operations.values()}
    rest = [f for f in outcome.findings if f.operation not in labels and f.source not in scenario_ops]
    cases.append(("contracts.run", "run-wide checks", [_text(f) for f in rest], False))

    failures = sum(1 for case in cases if case[2])
    skipped = sum(1 for case in cases if case[3])
    root = ElementTree.Element("testsuites", name=SUITE, tests=str(len(cases)), failures=str(failures))
    suite = ElementTree.SubElement(
        root,
        "testsuite",
        name=SUITE,
        tests=str(len(cases)),
        failures=str(failures),
        errors="0",
        skipped=str(skipped),
    )
    for classname, name, texts, is_skipped in cases:
        element = ElementTree.SubElement(suite, "testcase", classname=classname, name=name)
        if is_skipped:
            ElementTree.SubElement(element, "skipped")
        if texts:
            failure = ElementTree.SubElement(element, "failure", message=f"{len(texts)} finding(s)")
            failure.text = "\n\n".join(texts)
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"


def _text(finding: Finding) -> str:
    lines = [f"[{finding.check}] {finding.title} ({finding.source})", mask_tokens(finding.message)]
    if finding.curl:
        lines.append(finding.curl)
    return "\n".join(lines)

"""JUnit XML for CI: one test case per operation, per lifecycle scenario, and one for run-wide findings.

An operation the run never called is skipped, not passed; an interrupted run carries an error case that
says so. Each case has its `time`: the only thing in the reports that differs between two runs with the
same seed (report.md and report.html carry none).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.etree import ElementTree

from contracts.oracle.findings import Finding
from contracts.reports.document import mask_tokens
from contracts.run.outcome import INCONCLUSIVE, RunOutcome

SUITE = "contracts"
# Characters XML 1.0 cannot carry at all, escaped or not; fuzzed data and the answers to it contain them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    return _NOT_XML.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


@dataclass
class Case:
    classname: str
    name: str
    failures: list[str] = field(default_factory=list)
    skipped: str | None = None
    error: str | None = None
    seconds: float = 0.0


def cases(outcome: RunOutcome) -> list[Case]:
    result: list[Case] = []
    scenario_sources = {f"scenario {s.name}" for s in outcome.scenarios}
    exercised = {e.operation for e in outcome.exchanges if not e.probe}
    for op in outcome.contract.operations.values():
        texts = [
            _text(f) for f in outcome.findings if f.operation == op.label and f.source not in scenario_sources
        ]
        case = Case(
            "contracts.operations", op.label, texts, seconds=outcome.operation_seconds.get(op.label, 0.0)
        )
        if op.label not in exercised and not texts:
            case.skipped = "not exercised: no request of this operation was answered"
        result.append(case)
    for scenario in outcome.scenarios:
        case = Case("contracts.scenarios", scenario.name, [_text(f) for f in scenario.findings])
        case.seconds = scenario.seconds
        if scenario.outcome in ("skipped", INCONCLUSIVE):
            case.skipped = scenario.reason or (scenario.steps[-1] if scenario.steps else scenario.outcome)
            if scenario.outcome == INCONCLUSIVE:
                case.skipped = f"inconclusive: {case.skipped}"
        result.append(case)
    labels = {op.label for op in outcome.contract.operations.values()}
    rest = [f for f in outcome.findings if f.operation not in labels and f.source not in scenario_sources]
    run_wide = Case("contracts.run", "run-wide checks", [_text(f) for f in rest])
    if outcome.incomplete:
        run_wide.error = f"the run is incomplete: {outcome.incomplete}"
    result.append(run_wide)
    return result


def render(outcome: RunOutcome) -> str:
    every = cases(outcome)
    counts = {
        "tests": str(len(every)),
        "failures": str(sum(1 for case in every if case.failures)),
        "errors": str(sum(1 for case in every if case.error)),
        "skipped": str(sum(1 for case in every if case.skipped)),
        "time": f"{sum(case.seconds for case in every):.3f}",
    }
    root = ElementTree.Element("testsuites", {"name": SUITE, **counts})
    suite = ElementTree.SubElement(root, "testsuite", {"name": SUITE, **counts})
    for case in every:
        element = ElementTree.SubElement(
            suite, "testcase", classname=case.classname, name=xml_safe(case.name), time=f"{case.seconds:.3f}"
        )
        if case.skipped:
            ElementTree.SubElement(element, "skipped", message=xml_safe(case.skipped))
        if case.error:
            ElementTree.SubElement(element, "error", message=xml_safe(case.error))
        if case.failures:
            failure = ElementTree.SubElement(element, "failure", message=f"{len(case.failures)} finding(s)")
            failure.text = xml_safe("\n\n".join(case.failures))
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"


def _text(finding: Finding) -> str:
    lines = [f"[{finding.check}] {finding.title} ({finding.source})", mask_tokens(finding.message)]
    if finding.curl:
        lines.append(finding.curl)
    return "\n".join(lines)

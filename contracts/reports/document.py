"""The human report as a format-neutral document; Markdown and HTML render the same one.

Nothing in it may vary between two runs with the same seed against a fresh fake: no timestamps, no
durations, no ports; tokens that leak into messages are masked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from contracts.reports.coverage import actions_by_phase, phase_transitions, status_matrix
from contracts.run.outcome import RunOutcome

_JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*")


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]


Block = Text | Code | Table


@dataclass
class Section:
    heading: str
    blocks: list[Block] = field(default_factory=list)
    level: int = 2


@dataclass
class Document:
    title: str
    verdict: bool
    sections: list[Section]


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def mask_tokens(text: str) -> str:
    return _JWT.sub("<jwt>", text)


def build(outcome: RunOutcome) -> Document:
    sections = [
        _summary(outcome),
        *_findings(outcome),
        *_inconclusive(outcome),
        _scenarios(outcome),
        _checks(outcome),
        *_coverage(outcome),
        _cleanup(outcome),
    ]
    if outcome.incomplete:
        title = f"Contract run INCOMPLETE ({outcome.incomplete}): no verdict"
    elif outcome.conforms:
        title = "Contract run: the backend conforms"
    elif outcome.findings:
        title = f"Contract run: the backend does not conform ({plural(len(outcome.findings), 'finding')})"
    else:
        title = "Contract run INCONCLUSIVE: nothing failed, but the cluster had no room for everything"
    return Document(title=title, verdict=outcome.conforms, sections=sections)


def _summary(outcome: RunOutcome) -> Section:
    contract, settings = outcome.contract, outcome.settings
    placement = outcome.placement
    rows = [
        ["Target", outcome.target],
        ["Contract", f"{contract.title} {contract.version} ({contract.source})"],
        ["Phases", ", ".join(settings.phases) or "(none)"],
        ["Seed / run id", f"{settings.seed} / {outcome.run_id}"],
        ["Max examples / workers", f"{settings.max_examples} / {settings.workers}"],
        ["Writes", outcome.writes],
        ["Project / cluster", f"{placement.project_id} / {placement.cluster_id}" if placement else "-"],
        ["Requests sent", _requests(outcome)],
        *[["Room", line] for line in outcome.capacity],
    ]
    blocks: list[Block] = [Table(["", ""], rows)]
    if outcome.incomplete:
        blocks.append(
            Text(f"This run did not finish ({outcome.incomplete}); what it did not reach was not tested.")
        )
    blocks += [Text(f"Not run: {part}.") for part in outcome.not_run]
    if contract.fixups:
        blocks.append(Text("Fix-ups applied to the spec in memory: " + "; ".join(contract.fixups) + "."))
    blocks.append(
        Text("Reproduce a finding: export RUNAI_URL=<base URL> RUNAI_TOKEN=<token>, then run its curl line.")
    )
    return Section("Summary", blocks)


def _findings(outcome: RunOutcome) -> list[Section]:
    if not outcome.findings:
        return [Section("Findings", [Text("None: every check passed.")])]
    sections = [Section(f"Findings ({len(outcome.findings)})", [])]
    for number, finding in enumerate(outcome.findings, 1):
        blocks: list[Block] = [
            Text(f"{finding.title} - found by {finding.source}."),
            Code(mask_tokens(finding.message)),
        ]
        if finding.curl:
            blocks.append(Code(finding.curl))
        sections.append(Section(f"{number}. {finding.check} on {finding.operation}", blocks, level=3))
    return sections


def _requests(outcome: RunOutcome) -> str:
    probes = sum(1 for e in outcome.exchanges if e.probe)
    return f"{len(outcome.exchanges)} (of them {probes} the harness's own: probes without a valid token, look-ups)"


def _inconclusive(outcome: RunOutcome) -> list[Section]:
    if not outcome.inconclusive:
        return []
    blocks: list[Block] = [
        Text(
            "The cluster held a training of the run (Pending, with the reason below): that is the cluster's "
            "state, not a contract violation, so what needed the training has no verdict. Free room for the "
            "project (or pass --project-id of one with room) and run again."
        ),
        *[Code(reason) for reason in outcome.inconclusive],
    ]
    return [Section("Inconclusive", blocks)]


def _checks(outcome: RunOutcome) -> Section:
    if not outcome.checks:
        return Section("Checks that ran", [Text("None: no request was judged.")])
    rows = [[check.name, check.kind, check.description] for check in outcome.checks]
    return Section("Checks that ran", [Table(["check", "by", "what it judges"], rows)])


def _scenarios(outcome: RunOutcome) -> Section:
    if not outcome.scenarios:
        return Section("Lifecycle scenarios", [Text("Not run.")])
    rows = [
        [s.name, s.outcome + (f" ({s.reason})" if s.reason else ""), s.title, "; ".join(s.steps)]
        for s in outcome.scenarios
    ]
    return Section("Lifecycle scenarios", [Table(["scenario", "outcome", "what", "steps"], rows)])


def _coverage(outcome: RunOutcome) -> list[Section]:
    columns, rows = status_matrix(outcome.contract, outcome.exchanges)
    table_rows = []
    for row in rows:
        cells = []
        for status in columns:
            count = row.counts.get(status, 0)
            if status in row.declared:
                cells.append(str(count) if count else "-")
            else:
                cells.append(f"{count} (undeclared)" if count else "")
        table_rows.append([row.operation, *cells])
    legend = Text("Requests per operation and status code; '-' is a declared status never observed.")
    matrix = Section(
        "Coverage: operation x status code", [legend, Table(["operation", *map(str, columns)], table_rows)]
    )
    transitions = phase_transitions(outcome.exchanges)
    if transitions:
        listed = sorted(transitions.items())
        body: Block = Table(["from", "to", "observed"], [[a, b, str(n)] for (a, b), n in listed])
    else:
        body = Text("No actualPhase was observed.")
    return [matrix, Section("Coverage: actualPhase transitions", [body]), _lifecycle_reach(outcome)]


def _lifecycle_reach(outcome: RunOutcome) -> Section:
    counts = actions_by_phase(outcome.contract, outcome.exchanges)
    phases = sorted({phase for counter in counts.values() for phase in counter})
    heading = "Coverage: operations on existing workloads, by the phase they were in"
    if not phases:
        return Section(heading, [Text("No operation reached a workload the run had seen.")])
    rows = [
        [label, *[str(counter.get(phase, 0) or "") for phase in phases]] for label, counter in counts.items()
    ]
    legend = Text(
        "Successful answers per operation, by the actualPhase last seen of the workload it addressed."
    )
    return Section(heading, [legend, Table(["operation", *phases], rows)])


def _cleanup(outcome: RunOutcome) -> Section:
    cleanup = outcome.cleanup
    blocks: list[Block] = [Text(f"Deleted at the end of the run: {len(cleanup.deleted)} training(s).")]
    if cleanup.failed:
        blocks.append(Text("Not deleted (run `contracts cleanup --journal <journal>`):"))
        blocks.append(Code("\n".join(cleanup.failed)))
    return Section("Cleanup", blocks)

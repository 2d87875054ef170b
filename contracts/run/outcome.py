"""Everything a finished run has to say; the reports render it, the CLI turns it into an exit code."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from contracts.backend.cleanup import CleanupResult
from contracts.backend.target import Placement
from contracts.oracle.findings import Exchange, Finding
from contracts.run.fuzz import FuzzSettings
from contracts.run.scenarios import ScenarioResult
from contracts.specs import Contract


@dataclass
class RunOutcome:
    target: str
    contract: Contract
    settings: FuzzSettings
    run_id: str
    writes: str
    placement: Placement | None = None
    scenarios: list[ScenarioResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    cleanup: CleanupResult = field(default_factory=CleanupResult)
    # Why the run stopped before it was done (an interrupt, or a budget that left time for nothing); such
    # a run never conforms.
    incomplete: str | None = None
    interrupted: bool = False
    # Why the backend stopped the run (a refused credential, an answer over a limit); redacted.
    error: str | None = None
    # Parts left out by the --max-duration budget, said in the reports rather than dropped silently.
    not_run: list[str] = field(default_factory=list)
    journal: Path | None = None
    operation_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def conforms(self) -> bool:
        return not self.findings and self.incomplete is None

"""Everything a finished run has to say; the reports render it, the CLI turns it into an exit code."""

from __future__ import annotations

from dataclasses import dataclass, field

from contracts.cleanup import CleanupResult
from contracts.findings import Exchange, Finding
from contracts.fuzz import FuzzSettings
from contracts.scenarios import ScenarioResult
from contracts.specs import Contract
from contracts.target import Placement


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

    @property
    def conforms(self) -> bool:
        return not self.findings

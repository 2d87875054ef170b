"""Everything a finished run has to say; the reports render it, the CLI turns it into an exit code."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from contracts.backend.cleanup import CleanupResult
from contracts.backend.target import Placement
from contracts.oracle.findings import Exchange, Finding
from contracts.run.settings import FuzzSettings
from contracts.specs import Contract

# A scenario whose training the cluster held (no room, over quota): neither passed nor a finding.
INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class CheckRan:
    """One check the run applied, for the reports' list: who judges, and what."""

    name: str
    kind: str  # "contracts" (ours), "schemathesis" (built in), "scenario"
    description: str


@dataclass
class ScenarioResult:
    name: str
    title: str
    outcome: str = "passed"
    steps: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
    # Why it was skipped or is inconclusive (e.g. the cluster's reason for holding its training).
    reason: str | None = None


@dataclass(frozen=True)
class Room:
    """What the project may use, as the backend reports it."""

    project: str  # its name where the look-up gives one, else its id
    lines: list[str] = field(default_factory=list)  # one per node pool, for the reports
    # False: no node pool of the project allows a GPU (limit 0); None: not known.
    gpu_room: bool | None = None
    # Set when the quota allows not even the smallest CPU-only training anywhere.
    blocked: str | None = None


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
    # What the backend said of the project's room before the scenarios (quota, allocation).
    capacity: list[str] = field(default_factory=list)
    checks: list[CheckRan] = field(default_factory=list)

    @property
    def inconclusive(self) -> list[str]:
        """Why parts of the run could not conclude (one line per distinct reason), in order."""
        reasons = [s.reason or s.name for s in self.scenarios if s.outcome == INCONCLUSIVE]
        return list(dict.fromkeys(reasons))

    @property
    def conforms(self) -> bool:
        return not self.findings and self.incomplete is None and not self.inconclusive

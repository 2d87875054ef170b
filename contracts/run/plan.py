"""`--dry-run`: what a run would do, worked out without sending a single request."""

from __future__ import annotations

from contracts.backend.safety import writes_policy
from contracts.run.execute import RunOptions
from contracts.run.scenarios import Scenario
from contracts.specs import Contract


def describe_plan(options: RunOptions, contract: Contract) -> str:
    target = options.url or "our fake, started on an ephemeral loopback port with a manual clock"
    writable, writes = writes_policy(options.url, options.allow_writes)
    if options.token:
        auth = "the given bearer token"
    elif options.credentials:
        auth = f"client credentials of {options.credentials.client_id!r} via POST /api/v1/token, refreshed before expiry"
    else:
        auth = "the fake's default credentials (a URL that is not our fake needs --token or --client-id/--client-secret)"
    placement = (
        f"project {options.project_id or '(discovered)'}, cluster {options.cluster_id or '(discovered)'}"
    )
    seed = options.seed if options.seed is not None else "(random, printed at the start of the run)"
    lines = [
        "contracts run - plan (dry run: nothing is sent)",
        f"  target:       {target}",
        f"  auth:         {auth}",
        f"  contract:     {contract.title} {contract.version} from {contract.source}",
        *[
            f"    {op.label}  ({op.operation_id}: {', '.join(map(str, op.statuses))})"
            for op in contract.operations.values()
        ],
        *[f"    fix-up: {fixup}" for fixup in contract.fixups],
        f"  writes:       {writes}",
    ]
    if writable:
        lines += [
            f"  creates:      trainings named ct-<run id>-..., in {placement}",
            f"                image {options.image}, compute {options.compute()} (gpu-release: "
            f"{options.gpu_compute()}); every one journalled and deleted",
            "  room:         the project's quota read first; a training the cluster holds Pending with a "
            "reason is inconclusive (exit 3), not a finding",
            "  scenarios:",
            *[f"    {s.name}: {s.title}{_condition(s, contract)}" for s in options.selected_scenarios()],
        ]
    else:
        lines.append("  skipped:      create, and every lifecycle scenario")
    lines += [
        f"  schemathesis: phases {', '.join(options.phases) or '(none)'}; max examples {options.max_examples}; "
        f"max time {options.max_time or 'unlimited'}; workers {options.workers}; seed {seed}",
        f"  budget:       {f'{options.max_duration:g} s for the whole run' if options.max_duration else 'none'}",
        f"  reports:      {options.report_dir}/junit.xml, report.md, report.html; journal "
        f"{options.report_dir}/journal-<run id>.jsonl",
    ]
    return "\n".join(lines)


def _condition(scenario: Scenario, contract: Contract) -> str:
    """What decides at run time whether the scenario runs, as run_scenario decides it."""
    missing = [op for op in scenario.needs_operations if op not in contract.offered]
    if missing:
        return f" [skipped: the contract does not document {', '.join(missing)}]"
    if scenario.needs_control:
        return " [only where the target is our fake: needs its control API]"
    if scenario.needs_gpu:
        return " [needs a GPU: skipped, with the reason, where the project has no GPU room]"
    return ""

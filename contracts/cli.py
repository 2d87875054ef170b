"""`contracts`: verify a Run:ai Trainings backend (or our fake) against the contract.

Its exit codes are listed once, in the parser's epilog (`contracts --help`).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from contracts import limits
from contracts.arguments import byte_size, compute, csv_of, positive, seconds
from contracts.backend.auth import FAKE_CREDENTIALS, AuthError, Credentials, TokenSource
from contracts.backend.cleanup import delete_leftovers
from contracts.backend.control import FakeControl
from contracts.backend.discovery import DiscoveryError
from contracts.backend.journal import leftovers
from contracts.backend.server import ServerError
from contracts.backend.target import TargetError, check_url
from contracts.calibrate import command as calibrate
from contracts.diff import command as diff_command
from contracts.diff.sources import VERSION_NAMES
from contracts.redaction import redacted_output
from contracts.reports.document import plural
from contracts.reports.write import write_reports
from contracts.run.capacity import TokenRefused
from contracts.run.execute import RunOptions, UsageError, execute
from contracts.run.interruption import EXIT_INTERRUPTED, hard_limit, signals_interrupt
from contracts.run.plan import describe_plan
from contracts.run.progress import Progress, Verbosity
from contracts.run.scenarios import SCENARIOS
from contracts.run.settings import PHASES
from contracts.specs import ContractError, load_contract
from contracts.urls import url_fix
from mockserver.about import package_version

EXIT_CONFORMS, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCONCLUSIVE = 0, 1, 2, 3
DEFAULTS = RunOptions()
# Seconds past --max-duration after which a run still going is stopped like an interrupt (cleanup and
# reports still happen): the limits on every read should have ended it already.
OVERRUN_GRACE = 10.0

RUN_EPILOG = """\
examples:
  contracts run                                    # our fake, started on a loopback port, seed 0
  contracts run --spec runai-2.18-openapi.json     # the official document as the contract
  contracts run --url http://127.0.0.1:8080 --phases coverage --scenarios lifecycle
  RUNAI_TOKEN=... contracts run --url https://tenant.run.ai --phases examples,coverage
  contracts run --url https://tenant.run.ai --client-id APP --client-secret SECRET \\
      --allow-writes --project-id 7 --cluster-id <uuid> --image busybox:1.36 --gpu-portion 0

safety: on a target that is not loopback nothing is created without --allow-writes; created trainings
are named ct-<run id>-..., journalled to REPORT_DIR/journal-<run id>.jsonl as they are created, and
deleted at the end (after a crash: contracts cleanup --journal FILE).
"""


def _add_auth(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("authentication (not needed against our fake)")
    group.add_argument(
        "--token", default=os.environ.get("RUNAI_TOKEN"), help="bearer token (default: $RUNAI_TOKEN)"
    )
    group.add_argument(
        "--client-id",
        default=os.environ.get("RUNAI_CLIENT_ID"),
        help="application client id: tokens come from POST /api/v1/token (default: $RUNAI_CLIENT_ID)",
    )
    group.add_argument(
        "--client-secret",
        default=os.environ.get("RUNAI_CLIENT_SECRET"),
        help="application secret (default: $RUNAI_CLIENT_SECRET)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="contracts",
        description=__doc__.split("\n\n")[0],
        epilog="exit codes: 0 conforms, 1 does not (or every authenticated request was refused), 2 usage "
        "errors (also an unreachable target, a refused token, and a run the backend stopped: reports "
        "written), 3 inconclusive (nothing failed, but the cluster had no room for a training), 130 "
        "interrupted (SIGINT, SIGTERM): the reports say incomplete",
    )
    parser.add_argument("--version", action="version", version=f"contracts {package_version()}")
    # Not `required`: argparse would then answer `contracts --bogus` with "COMMAND is required"; main()
    # says what is wrong instead.
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_run(commands)
    _add_cleanup(commands)
    diff_command.add_parser(commands)
    calibrate.register(commands, _add_auth)
    return parser


def _add_run(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = commands.add_parser(
        "run",
        help="fuzz and script a backend against the contract, write reports",
        description="Fuzz a backend with Schemathesis (plus our semantic checks), walk the lifecycle scenarios, "
        "and write JUnit, Markdown and HTML reports.",
        epilog=RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_target(run)
    _add_auth(run)
    _add_work(run)
    _add_safety(run)


def _add_target(run: argparse.ArgumentParser) -> None:
    target = run.add_argument_group("target")
    target.add_argument("--url", help="base URL of the deployment (without /api/v1); default: start our fake")
    target.add_argument(
        "--spec",
        help="the contract: a path or URL to an OpenAPI 3 document (default: ours, "
        "trainings 2.18); the official Run:ai documents are accepted as published",
    )
    target.add_argument(
        "--api",
        choices=VERSION_NAMES,
        help="the API version: its contract (unless --spec says otherwise), served by the fake we start",
    )
    target.add_argument("--project-id", help="project to create trainings in (default: discovered)")
    target.add_argument("--cluster-id", help="cluster to create trainings in (default: discovered)")
    target.add_argument(
        "--fake-config", type=Path, help="YAML config for the fake we start (mockserver --config)"
    )


def _add_work(run: argparse.ArgumentParser) -> None:
    work = run.add_argument_group("what to run")
    work.add_argument(
        "--seed", type=int, default=0, help="seed for generation and names (default: %(default)s)"
    )
    work.add_argument(
        "--max-examples",
        type=positive,
        default=DEFAULTS.max_examples,
        help="examples per operation in the fuzzing phase (default: %(default)s)",
    )
    work.add_argument("--max-time", type=positive, help="seconds after which fuzzing and stateful stop")
    work.add_argument(
        "--max-duration",
        type=seconds,
        help="seconds for the whole run (scenarios, fuzzing, cleanup); what does not fit is reported "
        "as skipped",
    )
    work.add_argument(
        "--phases",
        type=csv_of(PHASES),
        default=DEFAULTS.phases,
        help=f"Schemathesis phases, comma-separated (default: {','.join(PHASES)}; '' for none)",
    )
    work.add_argument(
        "--scenarios",
        type=csv_of([s.name for s in SCENARIOS]),
        default=DEFAULTS.scenarios,
        help=f"lifecycle scenarios, comma-separated, of: {', '.join(s.name for s in SCENARIOS)} "
        "(default: all; '' for none)",
    )
    work.add_argument(
        "--workers",
        type=positive,
        default=DEFAULTS.workers,
        help="concurrent Schemathesis workers (default: 1; more breaks same-seed reproducibility)",
    )
    work.add_argument(
        "--scenario-timeout",
        type=float,
        default=DEFAULTS.scenario_timeout,
        help="seconds a scenario waits for a phase on a live backend; grows to 3x the longest the run has "
        "seen that phase last (default: %(default)s)",
    )
    work.add_argument(
        "--action-grace",
        type=float,
        default=DEFAULTS.action_grace,
        help="seconds an accepted suspend, resume or delete may take to show in the phase on a live "
        "backend before the run reports that it did not take effect (default: %(default)s)",
    )
    work.add_argument(
        "--max-body-size",
        type=byte_size,
        default=DEFAULTS.max_body,
        help="largest answer body read from the backend (e.g. 512K, 16M); a longer one is refused and "
        f"reported (default: {limits.size(DEFAULTS.max_body)})",
    )
    work.add_argument(
        "--response-timeout",
        type=seconds,
        default=DEFAULTS.response_timeout,
        help="seconds one answer may take in all, first byte to last (default: %(default)s)",
    )


def _add_safety(run: argparse.ArgumentParser) -> None:
    safety = run.add_argument_group("safety and output")
    safety.add_argument(
        "--allow-writes",
        action="store_true",
        help="create trainings on a target that is not loopback (never needed on loopback)",
    )
    safety.add_argument(
        "--image", default=DEFAULTS.image, help="image of created trainings (default: %(default)s)"
    )
    safety.add_argument(
        "--compute",
        type=compute,
        help="JSON compute block of scenario trainings (default: CPU only, "
        '\'{"cpuCoreRequest": 0.1, "cpuMemoryRequest": "100M"}\')',
    )
    safety.add_argument(
        "--gpu-portion",
        type=float,
        default=DEFAULTS.gpu_portion,
        help="GPU fraction scenario trainings request; 0 for CPU only (default: %(default)s; the "
        "gpu-release scenario asks a tenth of a GPU whatever this says, and is skipped without GPU room)",
    )
    safety.add_argument("--report-dir", type=Path, default=DEFAULTS.report_dir, help="default: %(default)s")
    safety.add_argument(
        "--dry-run", action="store_true", help="print the plan and exit without sending anything"
    )
    chatter = safety.add_mutually_exclusive_group()
    chatter.add_argument("--quiet", action="store_true", help="print only the verdict and the reports' place")
    chatter.add_argument(
        "--verbose", action="store_true", help="also every phase a scenario sees and fuzzing counts"
    )


def _add_cleanup(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cleanup = commands.add_parser(
        "cleanup",
        help="delete the trainings a crashed run left behind",
        description="Delete every training a journal records as created and not deleted.",
    )
    cleanup.add_argument(
        "--journal", type=Path, required=True, help="a journal-<run id>.jsonl from a report dir"
    )
    _add_auth(cleanup)


def _credentials(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Credentials | None:
    if args.client_id and not args.client_secret:
        parser.error("--client-id needs --client-secret (or RUNAI_CLIENT_SECRET)")
    return Credentials(args.client_id, args.client_secret) if args.client_id else None


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    credentials = _credentials(parser, args)
    if args.url:
        check_url(args.url)  # before anything else: a URL without a scheme is a usage error, not a crash
        fix = url_fix(args.url)
        if fix:
            raise TargetError(fix)
    options = RunOptions(
        url=args.url,
        token=None if credentials else args.token,
        credentials=credentials,
        project_id=args.project_id,
        cluster_id=args.cluster_id,
        seed=args.seed,
        max_examples=args.max_examples,
        max_time=args.max_time,
        max_duration=args.max_duration,
        phases=args.phases,
        scenarios=args.scenarios,
        workers=args.workers,
        report_dir=args.report_dir,
        allow_writes=args.allow_writes,
        image=args.image,
        compute_request=args.compute,
        gpu_portion=args.gpu_portion,
        scenario_timeout=args.scenario_timeout,
        action_grace=args.action_grace,
        fake_config=args.fake_config,
        api=args.api,
        max_body=args.max_body_size,
        response_timeout=args.response_timeout,
        progress=Progress(_verbosity(args), budget=args.max_duration),
    )
    contract = load_contract(args.spec, api=args.api)
    if args.dry_run:
        print(describe_plan(options, contract))
        return EXIT_CONFORMS
    overrun = args.max_duration + OVERRUN_GRACE if args.max_duration else None
    with signals_interrupt(), hard_limit(overrun):
        outcome = execute(options, contract)
    written = write_reports(outcome, args.report_dir)
    if outcome.incomplete:
        print(f"contracts: INCOMPLETE, no verdict: {outcome.incomplete}")
    elif outcome.conforms:
        print("contracts: the backend conforms")
    elif outcome.findings:
        print(f"contracts: the backend does NOT conform: {plural(len(outcome.findings), 'finding')}")
    else:
        print("contracts: INCONCLUSIVE (nothing failed, but not everything could be tested):")
    for reason in outcome.inconclusive:
        print(f"  - inconclusive: {reason}")
    for finding in outcome.findings:
        first = finding.message.splitlines()[0] if finding.message else ""
        print(f"  - [{finding.check}] {finding.operation}: {first}")
    for part in outcome.not_run:
        print(f"  - not run: {part}")
    if outcome.cleanup.failed:
        print(
            f"  - left behind: {len(outcome.cleanup.failed)}; contracts cleanup --journal {outcome.journal}"
        )
    kept = [*written, *([outcome.journal] if outcome.journal else []), args.report_dir / ".hypothesis"]
    print(f"contracts: reports in {', '.join(str(path) for path in kept)}")
    if outcome.interrupted:
        return EXIT_INTERRUPTED
    if outcome.error:
        print(f"contracts: error: {outcome.error}", file=sys.stderr)
        return EXIT_USAGE
    if outcome.findings or outcome.incomplete:
        return EXIT_FINDINGS
    return EXIT_INCONCLUSIVE if outcome.inconclusive else EXIT_CONFORMS


def _verbosity(args: argparse.Namespace) -> Verbosity:
    if args.quiet:
        return Verbosity.QUIET
    return Verbosity.VERBOSE if args.verbose else Verbosity.NORMAL


def _cleanup(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    credentials = _credentials(parser, args)
    if not args.journal.is_file():
        parser.error(f"no journal at {args.journal}")

    def tokens_for(base_url: str) -> TokenSource:
        if credentials:
            return TokenSource(base_url, credentials=credentials)
        if args.token:
            return TokenSource(base_url, token=args.token)
        control = FakeControl.detect(base_url)
        if control is not None:
            control.close()  # only asked to recognise the fake
            return TokenSource(base_url, credentials=FAKE_CREDENTIALS)
        raise AuthError(f"{base_url}: pass --token or --client-id/--client-secret")

    pending = len(leftovers(args.journal))
    result = delete_leftovers(args.journal, tokens_for)
    print(f"contracts: {pending} leftover(s); deleted {len(result.deleted)}, failed {len(result.failed)}")
    for failure in result.failed:
        print(f"  - {failure}")
    return EXIT_FINDINGS if result.failed else EXIT_CONFORMS


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[name]  # type: ignore[no-any-return]
    raise KeyError(name)


def main(argv: Sequence[str] | None = None) -> int:
    with redacted_output():
        try:
            return _main(argv)
        except Exception:  # a bug of ours: said, redacted, with a usage exit code rather than 1 (findings)
            traceback.print_exc()
            print(
                "contracts: error: unexpected failure (a bug in contracts; traceback above)", file=sys.stderr
            )
            return EXIT_USAGE


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    # Errors are told by the parser of the command they concern, with that command's usage.
    command = _subparser(parser, args.command) if args.command else parser
    if unknown:
        command.error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command is None:
        parser.error("choose a command: run, cleanup, diff or calibrate (see contracts --help)")
    try:
        if args.command == "diff":
            return diff_command.run(args)
        if args.command == "calibrate":
            return calibrate.run(args)
        return _run(command, args) if args.command == "run" else _cleanup(command, args)
    except (
        UsageError,
        ContractError,
        AuthError,
        DiscoveryError,
        ServerError,
        TargetError,
        TokenRefused,
        limits.LimitExceeded,  # calibrate and diff read through the limits too, outside a run
    ) as error:
        print(f"contracts: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:  # before the run had anything to clean up (e.g. while loading the spec)
        print("contracts: interrupted before the run started", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

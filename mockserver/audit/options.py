"""The server's flags for the request journal and the client audit, kept here so that `cli.py` stays
the server's outline: `--request-journal N`, `--audit FILE` and `--phase-coverage`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mockserver.requests_ring import DEFAULT_RING_SIZE, MAX_RING_SIZE

if TYPE_CHECKING:  # the driver is imported only when asked for: the server's start stays lean
    from mockserver.audit.coverage import CoverageDriver


def add_journal_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--request-journal",
        type=int,
        metavar="N",
        default=DEFAULT_RING_SIZE,
        help="how many answered Run:ai API requests the request journal keeps for "
        "GET /api/mock/v1/requests (default: %(default)s; 0 keeps none)",
    )
    parser.add_argument(
        "--audit",
        type=Path,
        metavar="FILE",
        default=None,
        help="when the server stops, write the client audit (docs/audit.md) of the request journal: "
        "Markdown to FILE, JUnit beside it (FILE with .xml)",
    )
    parser.add_argument(
        "--phase-coverage",
        action="store_true",
        help="drive every workload a client creates through rare phases (a failure while Initializing, a "
        "preemption, a node loss, a slow Deleting); with --audit, the report lists the phases each went "
        "through (docs/audit.md)",
    )


def check_journal_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if not 0 <= args.request_journal <= MAX_RING_SIZE:
        parser.error(f"--request-journal must be between 0 and {MAX_RING_SIZE}")


def start_phase_coverage(state: Any, args: argparse.Namespace) -> CoverageDriver | None:
    """The phase-coverage driver, running, if `--phase-coverage` asked for it."""
    if not args.phase_coverage:
        return None
    from mockserver.audit.coverage import CoverageDriver, PhaseCoverage

    driver = CoverageDriver(PhaseCoverage(state.cluster))
    if state.cluster.clock.mode == "manual":
        state.phase_coverage = driver.coverage  # the control API's advances look, in virtual time
        return driver
    return driver.start()


def audit_at_stop(state: Any, args: argparse.Namespace, coverage: CoverageDriver | None = None) -> int:
    """Write the audit if `--audit` asked for it; the exit status (1 when it cannot be written)."""
    if coverage is not None:
        coverage.stop()
    if args.audit is None:
        return 0
    from mockserver.audit.coverage import markdown
    from mockserver.handlers.audit import write_audit

    try:
        junit_file = write_audit(state, args.audit)
        if coverage is not None:
            with args.audit.open("a", encoding="utf-8") as page:
                page.write(markdown(coverage.coverage.report()))
    except OSError as error:
        print(f"mockserver: cannot write the client audit to {args.audit}: {error}", file=sys.stderr)
        return 1
    print(f"Client audit: {args.audit} (JUnit: {junit_file})", flush=True)
    return 0

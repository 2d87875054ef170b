"""`mockserver scenario run FILE…`: run scenario files on the manual clock, report, draw timelines.

Exit status: 0 when every expectation of every file held, 1 when one failed (each failure names its step),
2 when a file cannot be read or run as written.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TextIO

from mockserver.scenario.model import ScenarioError, load_scenario
from mockserver.scenario.render import render_html
from mockserver.scenario.runner import ScenarioResult, run_scenario


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mockserver scenario",
        description="Run scenario files (docs/scenarios.md) against a fake cluster of their own, on the "
        "manual clock: timed submissions, client actions, chaos and expectations.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run scenario files; non-zero exit on a failed expectation")
    run.add_argument("files", nargs="+", type=Path, metavar="FILE")
    run.add_argument(
        "--timeline",
        type=Path,
        metavar="OUT",
        default=None,
        help="write the timeline (GPUs by time, phases, events) as a self-contained HTML page: OUT for one "
        "file, OUT/<name>.html for several",
    )
    return parser


def main(argv: list[str], out: TextIO | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = out or sys.stdout
    worst = 0
    for path in args.files:
        started = time.perf_counter()
        try:
            result = run_scenario(load_scenario(path))
        except ScenarioError as error:
            print(f"ERROR {error}", file=out)  # the message names the file
            worst = 2
            continue
        took = (time.perf_counter() - started) * 1000
        _report(path, result, took, out)
        if args.timeline is not None:
            target = args.timeline if len(args.files) == 1 else args.timeline / f"{_stem(path)}.html"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(
                render_html(result.timeline, [str(f) for f in result.failures]), encoding="utf-8"
            )
            print(f"      timeline: {target}", file=out)
        if not result.passed:
            worst = max(worst, 1)
    return worst


def _stem(path: Path) -> str:
    name = path.name
    return name[: -len(".scenario.yaml")] if name.endswith(".scenario.yaml") else path.stem


def _report(path: Path, result: ScenarioResult, took_ms: float, out: TextIO) -> None:
    verdict = "PASS" if result.passed else "FAIL"
    print(
        f"{verdict} {path}: {result.scenario.name} ({result.expectations} expectations, "
        f"{result.timeline.end:g} virtual s in {took_ms:.0f} ms)",
        file=out,
    )
    for failure in result.failures:
        print(f"      {failure}", file=out)

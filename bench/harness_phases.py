"""How long each part of `contracts run` takes against a fresh fake, and how many requests it sends.

    python bench/harness_phases.py [--max-examples N]

Not a test: numbers depend on the machine. Each row is a separate run on a fresh fake (start-up included),
so rows can be compared with each other, not added up.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from contracts.run.execute import RunOptions, execute
from contracts.run.scenarios import SCENARIOS
from contracts.run.settings import PHASES
from contracts.specs import load_contract


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=20)
    args = parser.parse_args()
    contract = load_contract()
    rows: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
        ("scenarios only", (), tuple(s.name for s in SCENARIOS))
    ]
    rows += [(f"phase {phase}", (phase,), ()) for phase in PHASES]
    print(f"{'part':22} {'seconds':>8} {'requests':>9} {'req/s':>7}")
    with tempfile.TemporaryDirectory() as directory:
        for label, phases, scenarios in rows:
            options = RunOptions(
                seed=0,
                max_examples=args.max_examples,
                phases=phases,
                scenarios=scenarios,
                report_dir=Path(directory),
            )
            started = time.perf_counter()
            outcome = execute(options, contract)
            seconds = time.perf_counter() - started
            requests = len(outcome.exchanges)
            print(f"{label:22} {seconds:8.1f} {requests:9d} {requests / seconds:7.0f}")


if __name__ == "__main__":
    main()

"""Serve mutants: `python -m tests.mutants.serve NAME[,NAME…] --port P [--seed N] [--realistic SPEED]`.

By default the fake runs on a manual clock; `--realistic SPEED` makes it behave like a real deployment
(realtime clock at SPEED, realistic timings, no control API, commands decide), so that the breakages
are put in front of the harness as a proxy in front of a real cluster would.
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.types import ASGIApp

from mockserver.app import create_app
from tests.mutants.asgi import MutantMiddleware
from tests.mutants.catalog import MUTANTS


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.mutants.serve")
    parser.add_argument("names", help=f"comma-separated, of: {', '.join(sorted(MUTANTS))}")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--realistic", type=float, metavar="SPEED")
    args = parser.parse_args(argv)
    names = args.names.split(",")
    unknown = [name for name in names if name not in MUTANTS]
    if unknown:
        parser.error(f"unknown mutant(s) {', '.join(unknown)}")
    uvicorn.run(
        mutant_app(names, args.seed, args.realistic), host="127.0.0.1", port=args.port, log_level="warning"
    )


def mutant_app(names: list[str], seed: int = 0, realistic: float | None = None) -> ASGIApp:
    """The fake with the named mutants in front of it: on a manual clock, or (`realistic`: its speed)
    behaving like a real deployment."""
    if realistic:
        app = create_app(
            clock="realtime", speed=realistic, seed=seed, profile="realistic", real_deployment=True
        )
    else:
        app = create_app(clock="manual", seed=seed)
    served: ASGIApp = app
    for name in names:
        mutant = MUTANTS[name]()
        mutant.bind(app.mock_state)
        served = MutantMiddleware(served, mutant)
    return served


if __name__ == "__main__":
    main()

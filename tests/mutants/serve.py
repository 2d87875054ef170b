"""Serve one mutant: `python -m tests.mutants.serve NAME --port P [--seed N]` (manual clock, loopback)."""

from __future__ import annotations

import argparse

import uvicorn

from mockserver.app import create_app
from tests.mutants.asgi import MutantMiddleware
from tests.mutants.catalog import MUTANTS


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.mutants.serve")
    parser.add_argument("name", choices=sorted(MUTANTS))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    app = create_app(clock="manual", seed=args.seed)
    mutant = MUTANTS[args.name]()
    mutant.bind(app.mock_state)
    uvicorn.run(MutantMiddleware(app, mutant), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()

"""The `contracts diff` sub-command: its arguments and what it prints and returns."""

from __future__ import annotations

import argparse
import os
import sys

from contracts.diff.compare import compare
from contracts.diff.render import as_json, as_markdown
from contracts.diff.sources import VERSION_NAMES, load

EXIT_SAME_CONTRACT = 0
EXIT_BREAKING = 1


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    diff = commands.add_parser(
        "diff",
        help="what changes for a client between two API documents (exit 1 when something breaks)",
        description="Compare two OpenAPI documents operation by operation: operations, status codes, "
        "parameters, request fields (added, removed, required), enum values and response fields. Exit 1 "
        "when something a client depends on was removed or changed incompatibly.",
    )
    diff.add_argument(
        "old",
        help=f"a version ({', '.join(VERSION_NAMES)}), a path or URL to a document, or with --url a backend",
    )
    diff.add_argument("new", help="the same, for the version moved to")
    diff.add_argument("--format", choices=("markdown", "json"), default="markdown", help="default: markdown")
    diff.add_argument(
        "--url",
        action="store_true",
        help="OLD and NEW are the base URLs of two backends: their served documents",
    )
    diff.add_argument(
        "--official",
        action="store_true",
        help="a version name means the whole official document of that release, not the fake's contract",
    )


def run(args: argparse.Namespace) -> int:
    old_name, old = load(args.old, official=args.official, backend=args.url)
    new_name, new = load(args.new, official=args.official, backend=args.url)
    comparison = compare(old, new, old_name, new_name)
    try:
        print(as_json(comparison) if args.format == "json" else as_markdown(comparison), end="\n", flush=True)
    except BrokenPipeError:  # `contracts diff … | head`: the reader has seen enough; the verdict stands
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_BREAKING if comparison.breaking else EXIT_SAME_CONTRACT

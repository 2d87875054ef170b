"""The command line's value types: each turns one option's text into its value or says, as a usage
error, what is wrong with it (argparse.ArgumentTypeError)."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Sequence


def csv_of(choices: Sequence[str]) -> type:
    class Csv:
        def __new__(cls, text: str) -> tuple[str, ...]:  # type: ignore[misc]
            items = tuple(item.strip() for item in text.split(",") if item.strip())
            unknown = [item for item in items if item not in choices]
            if unknown:
                raise argparse.ArgumentTypeError(
                    f"unknown {', '.join(unknown)}; choose from {', '.join(choices)}"
                )
            return items

    return Csv


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got {text}")
    return value


def compute(text: str) -> dict[str, object]:
    try:
        value = json.loads(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not JSON: {error}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object, e.g. '{\"cpuCoreRequest\": 0.5}'")
    return value


_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def byte_size(text: str) -> int:
    """A size: 1048576, 512K, 16M, 1G (also KiB, MiB, GiB; powers of 1024)."""
    match = re.fullmatch(r"\s*(\d+)\s*([kmg]?)(?:i?b)?\s*", text.lower())
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (e.g. 1048576, 512K, 16M)")
    value = int(match.group(1)) * _UNITS[match.group(2)]
    if value < 1024:
        raise argparse.ArgumentTypeError(f"must be at least 1K, got {text}")
    return value

"""JSON from strangers: nesting depth and number size bounded before anything recurses, only finite numbers.

The standard decoder accepts `NaN`, `Infinity` and `1e400` (which becomes infinity), hands integers of
more than 4,300 digits to `int()` (a ValueError deep inside), and nests as deep as the C stack allows;
every later step (schema validation, the domain, `json.dumps` of the answer) would then recurse just
as deep or emit invalid JSON. This module refuses all of that up front with a message for a 400.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from typing import Any

# Generous for any real request (a training body nests about 6 deep), small enough that nothing recurses far.
MAX_DEPTH = 64
# int64 has 19 digits; a number literal longer than this is no quantity any field takes.
MAX_NUMBER_CHARS = 40

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class UnsafeJson(ValueError):
    """JSON this server will not take; the message completes "Request body is …" for a 400."""


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects, brackets inside strings not counted (linear, no recursion)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(itertools.accumulate(_STEP[c] for c in brackets), default=0)


def _number(literal: str) -> None:
    if len(literal) > MAX_NUMBER_CHARS:
        raise UnsafeJson(f"refused: a number has more than {MAX_NUMBER_CHARS} characters")


def _parse_int(literal: str) -> int:
    _number(literal)
    return int(literal)


def _parse_float(literal: str) -> float:
    _number(literal)
    value = float(literal)
    if not math.isfinite(value):
        raise UnsafeJson(f"refused: the number {literal} is out of range")
    return value


def _refuse_constant(name: str) -> Any:
    raise UnsafeJson(f"refused: {name} is not a JSON number; only finite numbers are accepted")


def loads(data: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON text, or raise UnsafeJson (too deep, a huge or non-finite number, not JSON at all)."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    depth = nesting_depth(text)
    if depth > max_depth:
        raise UnsafeJson(f"refused: it nests {depth} levels deep; at most {max_depth} are accepted")
    try:
        return json.loads(
            text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_refuse_constant
        )
    except UnsafeJson:
        raise
    except (json.JSONDecodeError, RecursionError) as error:
        raise UnsafeJson(f"not valid JSON: {error}") from error


def finite(value: Any) -> bool:
    """True when no float anywhere in `value` is NaN or infinite (for data built in-process)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(finite(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(finite(v) for v in value)
    return True

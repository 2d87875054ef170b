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
_INNERMOST = re.compile(r"\[\]|\{\}")
_LONG_DIGITS = re.compile(rf"[0-9]{{{MAX_NUMBER_CHARS + 1}}}")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class UnsafeJson(ValueError):
    """JSON this server will not take; the message completes "Request body is …" for a 400."""


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects, brackets inside strings not counted (linear, no recursion)."""
    return _depth(_NOT_BRACKET.sub("", _STRING.sub("", text)))


def _depth(brackets: str) -> int:
    return max(itertools.accumulate(_STEP[c] for c in brackets), default=0)


def _deeper_than(brackets: str, limit: int) -> int | None:
    """The depth when it exceeds `limit`, else None. Each pass (in C) strips the innermost pairs, so a
    wide document costs a few passes instead of a Python step per bracket."""
    remaining = brackets
    for _ in range(limit):
        shorter = _INNERMOST.sub("", remaining)
        if len(shorter) == len(remaining):
            break  # empty, or brackets that do not pair up (json.loads will say where)
        remaining = shorter
    if not remaining:
        return None
    depth = _depth(brackets)  # rare: deep or malformed; counted exactly, still one linear pass
    return depth if depth > limit else None


def _parse_float(literal: str) -> float:
    if len(literal) > MAX_NUMBER_CHARS:
        raise UnsafeJson(f"refused: a number has more than {MAX_NUMBER_CHARS} characters")
    value = float(literal)
    if not math.isfinite(value):
        raise UnsafeJson(f"refused: the number {literal} is out of range")
    return value


def _refuse_constant(name: str) -> Any:
    raise UnsafeJson(f"refused: {name} is not a JSON number; only finite numbers are accepted")


def loads(data: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON text, or raise UnsafeJson (too deep, a huge or non-finite number, not JSON at all)."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    outside_strings = _STRING.sub("", text)
    depth = _deeper_than(_NOT_BRACKET.sub("", outside_strings), max_depth)
    if depth is not None:
        raise UnsafeJson(f"refused: it nests {depth} levels deep; at most {max_depth} are accepted")
    # Integers are checked here in one C pass rather than by a hook called for each of them.
    if _LONG_DIGITS.search(outside_strings):
        raise UnsafeJson(f"refused: a number has more than {MAX_NUMBER_CHARS} characters")
    return parse_bounded(text)


def parse_bounded(text: str) -> Any:
    """The parse `loads` ends with, for a text whose depth and digit runs are known to be within bounds:
    json.loads with the hooks that refuse huge or non-finite numbers, any failure an UnsafeJson."""
    try:
        return json.loads(text, parse_float=_parse_float, parse_constant=_refuse_constant)
    except UnsafeJson:
        raise
    except (json.JSONDecodeError, RecursionError) as error:
        raise UnsafeJson(f"not valid JSON: {error}") from error

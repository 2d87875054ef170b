"""Decimal numbers read from headers and query strings: ASCII digits only, and only a few of them.

`str.isdigit` is true for `²` and for 5,000 digits, and `int()` then raises (the first is no decimal
digit, the second is over Python's conversion limit): both were answered with a plain-text 500.
"""

from __future__ import annotations

import re

# Far more than any sequence number, status code or length this server reads.
MAX_DIGITS = 18
_DECIMAL = re.compile(rf"[0-9]{{1,{MAX_DIGITS}}}")


def plain_int(text: str) -> int | None:
    """The value of `text` if it is 1 to 18 ASCII digits (no sign, no spaces), else None."""
    return int(text) if _DECIMAL.fullmatch(text) else None

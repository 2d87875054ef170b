"""Kubernetes-style resource quantities ("10M", "1Gi", "500m") as plain numbers."""

from __future__ import annotations

import re

_SUFFIX = {
    "": 1.0,
    "n": 1e-9,
    "u": 1e-6,
    "m": 1e-3,
    "k": 1e3,
    "K": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
    "Pi": 2.0**50,
    "Ei": 2.0**60,
}
_QUANTITY = re.compile(r"^([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))(?:([eE][-+]?[0-9]+)|([a-zA-Z]*))$")


def parse_quantity(text: str) -> float:
    """The value of a quantity string in base units (bytes for memory); ValueError if malformed."""
    match = _QUANTITY.match(text.strip())
    if not match:
        raise ValueError(f"'{text}' is not a quantity such as '512Mi', '10G' or '0.5'")
    number, exponent, suffix = match.groups()
    if exponent:
        return float(number + exponent)
    if suffix not in _SUFFIX:
        raise ValueError(f"'{text}' has an unknown unit '{suffix}'")
    return float(number) * _SUFFIX[suffix]


def to_mib(text: str) -> float:
    """A memory quantity in MiB."""
    return parse_quantity(text) / 2.0**20

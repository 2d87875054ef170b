"""JSON text as Connexion's default jsonifier writes it, with one encoder made once.

Connexion's `Jsonifier.dumps` is `json.dumps(data, cls=JSONEncoder)` plus a newline, and `json.dumps`
builds a new encoder for every call with a `cls`. Code that writes an answer itself (the fast path, a list
page encoded row by row) uses these, so its bytes are Connexion's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connexion.jsonifier import JSONEncoder

encode: Callable[[Any], str] = JSONEncoder().encode


def answer_text(data: Any) -> str:
    """The body Connexion writes for `data`: its JSON text and a newline."""
    return encode(data) + "\n"

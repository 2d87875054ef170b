"""Secrets never leave the harness: every client secret and token it holds is replaced by a marker in
whatever it prints or writes, however it got there (a token endpoint that echoes the request into an
error message, a traceback, a report quoting an answer).

The credentials are registered as soon as they are known (`TokenSource`); the CLI writes stdout and stderr
through `RedactingStream` and the reports through `redact`. Like `limits`, it sits above the layers.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
from collections.abc import Iterator
from typing import Any, TextIO
from urllib.parse import quote, quote_plus

MARKER = "<redacted>"
# Shorter values are not secrets worth the name, and redacting them would mangle ordinary text.
MIN_LENGTH = 6


class Secrets:
    """The values to hide, each with the spellings it takes in JSON and in URLs."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def add(self, value: str | None) -> None:
        if not value or len(value) < MIN_LENGTH:
            return
        spellings = {value, json.dumps(value)[1:-1], quote(value, safe=""), quote_plus(value)}
        with self._lock:
            self._values |= {spelling for spelling in spellings if len(spelling) >= MIN_LENGTH}

    def redact(self, text: str) -> str:
        with self._lock:
            values = sorted(self._values, key=len, reverse=True)  # a longer one may contain a shorter one
        for value in values:
            if value in text:
                text = text.replace(value, MARKER)
        return text

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


SECRETS = Secrets()


def redact(text: str) -> str:
    return SECRETS.redact(text)


class RedactingStream:
    """A text stream (stdout, stderr) that writes everything through `redact`.

    Line by line would miss a secret split over two writes; print() writes a line's text and its end
    separately, and a secret has no newline in it, so each write is redacted on its own."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(redact(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def redacted_output() -> Iterator[None]:
    """While inside, nothing written to stdout or stderr shows a secret the run holds."""
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = RedactingStream(sys.stdout), RedactingStream(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = streams

"""The bounds that keep one request from stopping, crashing or bloating the server: one place for each."""

from __future__ import annotations

# A request body larger than this is refused before it is parsed.
MAX_BODY_BYTES = 1024 * 1024
# An error body lists this many problems and counts the rest; a 1 MiB body can hold 345k bad values.
MAX_LISTED_ISSUES = 50
# Counting problems beyond this costs time for nothing: the answer then says "more than".
MAX_COUNTED_ISSUES = 1000
# Seconds a client may take to send its request line and headers, and then its body (answered 408).
HEADER_TIMEOUT_SECONDS = 10.0
BODY_TIMEOUT_SECONDS = 10.0
# Open connections at once; beyond it uvicorn answers 503 before the app sees the request.
MAX_CONNECTIONS = 256
# An error message is cut here: some echo what the client sent (a path, a field name).
MAX_MESSAGE_CHARS = 2000


def listed(total: int, counted_all: bool = True) -> str:
    """How an error message says that only the first MAX_LISTED_ISSUES problems are listed."""
    if total <= MAX_LISTED_ISSUES:
        return ""
    rest = total - MAX_LISTED_ISSUES
    return f" (the first {MAX_LISTED_ISSUES} are listed; {'' if counted_all else 'more than '}{rest} more)"

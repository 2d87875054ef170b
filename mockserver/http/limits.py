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
# So are a compliance issue's field and details ("unknown node pool(s): a, a, a …" can name thousands).
MAX_ISSUE_CHARS = 500


# The message summarises this many problems; complianceIssues carries up to MAX_LISTED_ISSUES.
MESSAGE_ISSUES = 10


def left_out(total: int, counted_all: bool = True) -> str:
    """How an error message says how many problems its summary leaves out, and where the rest are."""
    if total <= MESSAGE_ISSUES:
        return ""
    count = f"{'more than ' if not counted_all else ''}{total}"
    return f" … ({count} problems; complianceIssues lists the first {min(total, MAX_LISTED_ISSUES)})"

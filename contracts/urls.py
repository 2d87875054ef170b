"""What a user may type as --url that names the API rather than the deployment, and the fix."""

from __future__ import annotations

# Paths a user may paste with the base URL; the harness adds them itself.
API_SUFFIXES = ("/api/v1", "/api")


def url_fix(url: str) -> str | None:
    """What to change in a --url that names the API path rather than the deployment (None: nothing)."""
    path = url.split("://", 1)[-1].partition("/")[2].rstrip("/")
    for suffix in API_SUFFIXES:
        if f"/{path}".endswith(suffix):
            base = url.rstrip("/")[: -len(suffix)]
            return f"--url {url!r} ends in {suffix}: drop {suffix} (the harness adds it), e.g. --url {base}"
    return None

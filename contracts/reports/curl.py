"""curl lines that reproduce a request, with credentials replaced by environment variables."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from typing import Any

TOKEN_VARIABLE = "$RUNAI_TOKEN"
URL_VARIABLE = "$RUNAI_URL"
URL_VARIABLE = "$RUNAI_URL"
# Transport details curl adds by itself; repeating them only makes the line longer.
_NOISE = {
    "user-agent",
    "accept-encoding",
    "connection",
    "content-length",
    "host",
    "x-schemathesis-testcaseid",
}
# Token-request fields that carry secrets (matched without regard to case, like the server does).
_SECRET_FIELDS = {"appsecret", "clientsecret", "password", "refreshtoken", "externaltoken", "code"}


def redact_body(body: bytes | str | None) -> str | None:
    if body is None:
        return None
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if isinstance(data, dict) and any(key.lower() in _SECRET_FIELDS for key in data):
        data = {k: "<redacted>" if k.lower() in _SECRET_FIELDS else v for k, v in data.items()}
        return json.dumps(data, separators=(",", ":"))
    return text


def curl_line(
    method: str,
    url: str,
    headers: Mapping[str, Any],
    body: bytes | str | None,
    *,
    base_url: str | None = None,
    keep_authorization: bool = False,
) -> str:
    """`base_url` is written as `$RUNAI_URL`, so that a line outlives an ephemeral port and the report
    stays the same from run to run; `keep_authorization` is for deliberately bad credentials."""
    prefix = base_url.rstrip("/") if base_url else None
    if prefix and url.startswith(prefix + "/"):
        target = f'"{URL_VARIABLE}"{shlex.quote(url[len(prefix) :])}'
    else:
        target = shlex.quote(url)
    parts = ["curl", "-X", method.upper(), target]
    for name, value in sorted(headers.items(), key=lambda item: item[0].lower()):
        if name.lower() in _NOISE:
            continue
        if name.lower() == "authorization" and not keep_authorization:
            # Double quotes so that the shell expands the variable when the line is pasted.
            scheme = str(value).split(" ", 1)[0]
            parts += ["-H", f'"Authorization: {scheme} {TOKEN_VARIABLE}"']
        else:
            parts += ["-H", shlex.quote(f"{name}: {value}")]
    text = redact_body(body)
    if text:
        parts += ["-d", shlex.quote(text)]
    return " ".join(parts)

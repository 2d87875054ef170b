"""Rules a single answer must follow that the schema cannot express. Each returns the problems it finds.

Kept free of Schemathesis so that the checks, the lifecycle scenarios and the unit tests share them.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

MAX_NAME_LENGTH = 63
SUFFIX_LENGTH = 5
_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_SUFFIX = re.compile(rf"^[a-z0-9]{{{SUFFIX_LENGTH}}}$")
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
# Clocks of a real control plane and of the machine running the harness are never quite in step.
CLOCK_SKEW = timedelta(minutes=5)


def error_body_problems(status: int, body: Any, content_type: str) -> list[str]:
    """Every error answer is `application/json` `{code, message}` with `code` equal to the HTTP status."""
    problems = []
    media_type = content_type.split(";")[0].strip().lower()
    if media_type != "application/json":
        problems.append(
            f"error answer has Content-Type {media_type or '(none)'!r}, expected application/json"
        )
    if not isinstance(body, dict):
        return [*problems, f"error body is not a JSON object {{code, message}}: {_short(body)}"]
    if "code" not in body or "message" not in body:
        keys = ", ".join(sorted(body)) or "none"
        return [*problems, f"error body lacks code/message (keys: {keys}) - expected {{code, message}}"]
    code = body["code"]
    if isinstance(code, bool) or not isinstance(code, int):
        problems.append(f"error code {code!r} is not an integer")
    elif code != status:
        problems.append(f"error code {code} differs from the HTTP status {status}")
    if not isinstance(body["message"], str):
        problems.append(f"error message {body['message']!r} is not a string")
    issues = body.get("complianceIssues")
    if issues is not None and not (
        isinstance(issues, list)
        and all(
            isinstance(issue, dict)
            and isinstance(issue.get("field"), str)
            and isinstance(issue.get("details"), str)
            for issue in issues
        )
    ):
        problems.append(f"complianceIssues is not a list of {{field, details}}: {_short(issues)}")
    return problems


def accepted_body_problems(status: int, body: Any) -> list[str]:
    """A 202 answer to suspend/resume (and to delete in the latest API) is `{code: 202, message}`."""
    if not isinstance(body, dict):
        return [f"{status} body is not a JSON object {{code, message}}: {_short(body)}"]
    problems = []
    if body.get("code") != status or isinstance(body.get("code"), bool):
        problems.append(f"{status} body has code {body.get('code')!r}, expected {status}")
    if not isinstance(body.get("message"), str) or not body.get("message"):
        problems.append(f"{status} body has no message: {_short(body)}")
    return problems


def _suffix_problem(name: str, requested: str) -> str | None:
    """Why `name` is not `requested` (cut to fit) plus '-' and a random suffix, or None when it is."""
    prefix, dash, suffix = (
        name[: -SUFFIX_LENGTH - 1],
        name[-SUFFIX_LENGTH - 1 : -SUFFIX_LENGTH],
        name[-SUFFIX_LENGTH:],
    )
    if dash != "-" or not _SUFFIX.match(suffix):
        return f"does not end in '-' and {SUFFIX_LENGTH} random lowercase letters or digits"
    if not prefix or prefix != requested[: MAX_NAME_LENGTH - SUFFIX_LENGTH - 1]:
        return f"does not start with requestedName {requested!r}"
    return None


def name_problems(sent_name: Any, as_prefix: bool | None, training: dict[str, Any]) -> list[str]:
    """`name`, `requestedName` and `useGivenNameAsPrefix`: a DNS label, the suffix when asked for, echoed.

    `as_prefix` is what the create request said (`None` on a read, where it is not known)."""
    name, requested = training.get("name"), training.get("requestedName")
    if not isinstance(name, str) or not isinstance(requested, str):
        return [f"name {name!r} / requestedName {requested!r} are not both strings"]
    problems = []
    if len(name) > MAX_NAME_LENGTH:
        problems.append(f"name {name!r} is {len(name)} characters long, more than {MAX_NAME_LENGTH}")
    if not _DNS_LABEL.match(name):
        problems.append(
            f"name {name!r} is not a DNS label (lowercase letters, digits, '-', starting with a letter)"
        )
    if isinstance(sent_name, str) and requested != sent_name:
        problems.append(f"requestedName {requested!r} differs from the name that was sent, {sent_name!r}")
    suffix_problem = _suffix_problem(name, requested)
    if as_prefix is True and suffix_problem:
        problems.append(f"useGivenNameAsPrefix: name {name!r} {suffix_problem}")
    elif as_prefix is None and name != requested and suffix_problem:
        # A read does not say whether the name was a prefix: either form is fine.
        problems.append(f"name {name!r} is neither requestedName {requested!r} nor it plus a random suffix")
    elif as_prefix is False and name != requested:
        problems.append(
            f"name {name!r} differs from requestedName {requested!r} without useGivenNameAsPrefix"
        )
    return problems


def created_at_problems(value: Any, now: datetime | None = None) -> list[str]:
    """`createdAt` is an RFC 3339 date-time, and not in the future."""
    if not isinstance(value, str) or not _RFC3339.match(value):
        return [f"createdAt {value!r} is not an RFC 3339 date-time"]
    try:
        created = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return [f"createdAt {value!r} is not a valid date-time"]
    now = now or datetime.now(timezone.utc)
    if created > now + CLOCK_SKEW:
        return [f"createdAt {value} is in the future"]
    return []


def spec_differences(sent: Any, got: Any, path: str = "spec") -> list[str]:
    """Where the returned spec departs from the submitted one.

    Whether the server fills in defaults is not documented, so fields the client left out (or sent as
    null) may come back with any value; every value it did send must come back unchanged.
    """
    if sent is None:
        return []
    if isinstance(sent, dict):
        if not isinstance(got, dict):
            return [f"{path} was sent as an object, came back as {_short(got)}"]
        return [
            diff
            for key, value in sent.items()
            for diff in spec_differences(value, got.get(key), f"{path}.{key}")
        ]
    if isinstance(sent, list):
        if not isinstance(got, list) or len(got) != len(sent):
            return [f"{path} was sent as {_short(sent)}, came back as {_short(got)}"]
        return [
            diff
            for i, (a, b) in enumerate(zip(sent, got, strict=True))
            for diff in spec_differences(a, b, f"{path}[{i}]")
        ]
    if isinstance(sent, bool) is not isinstance(got, bool) or sent != got:
        return [f"{path} was sent as {_short(sent)}, came back as {_short(got)}"]
    return []


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def documented_schema(schema: Any, document: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """`schema` with local `$ref`s followed and `allOf` parts merged (properties only): what decides
    which keys a value documents."""
    if not isinstance(schema, dict) or depth > 20:
        return {}
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = document
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        return documented_schema(target, document, depth + 1)
    parts = schema.get("allOf")
    if isinstance(parts, list):
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        properties: dict[str, Any] = dict(merged.get("properties") or {})
        for part in parts:
            resolved = documented_schema(part, document, depth + 1)
            properties.update(resolved.get("properties") or {})
            if "items" in resolved:
                merged.setdefault("items", resolved["items"])
        if properties:
            merged["properties"] = properties
        return merged
    return schema


def documented_part(value: Any, schema: Any, document: dict[str, Any], depth: int = 0) -> Any:
    """The part of `value` its schema documents: keys an object's schema does not name are left out (a
    backend may drop what the contract does not know), recursively; a schema that names no properties
    keeps the value whole."""
    resolved = documented_schema(schema, document)
    if depth > 20:
        return value
    if isinstance(value, dict) and isinstance(resolved.get("properties"), dict):
        properties = resolved["properties"]
        return {
            key: documented_part(item, properties[key], document, depth + 1)
            for key, item in value.items()
            if key in properties
        }
    if isinstance(value, list) and isinstance(resolved.get("items"), dict):
        return [documented_part(item, resolved["items"], document, depth + 1) for item in value]
    return value

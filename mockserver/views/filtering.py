"""The list parameters the Run:ai API shares: `filterBy`, `sortBy`/`sortOrder`, `offset`/`limit`, `search`.

A list view renders its items first and then narrows, orders and pages the rendered rows, so a filter
always sees exactly what the client sees (one definition per field). A bad parameter raises
`QueryError`; the handler answers it with 400 and the message.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

# Longest first, so that `<=`/`>=` are not read as a field name ending in `<`/`>`.
OPERATORS = ("==", "!=", "<=", ">=", "=@", "!@", "=^", "=$")
DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class QueryError(ValueError):
    """A list parameter the API cannot use; the message says which and why."""


class Kind(Enum):
    """How a field's values compare: the documents allow only ==, !=, <=, >= on dates."""

    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    BOOLEAN = "boolean"


ORDERING_ONLY = frozenset({"==", "!=", "<=", ">="})


@dataclass(frozen=True)
class Filter:
    field: str
    operator: str
    value: str


@dataclass(frozen=True)
class Fields:
    """The fields a list can be filtered and sorted by, and how to read each from a rendered item."""

    kinds: Mapping[str, Kind]
    readers: Mapping[str, Callable[[Mapping[str, Any]], Any]]

    def read(self, item: Mapping[str, Any], name: str) -> Any:
        reader = self.readers.get(name)
        return reader(item) if reader else item.get(name)


def fields(kinds: Mapping[str, Kind], **readers: Callable[[Mapping[str, Any]], Any]) -> Fields:
    return Fields(dict(kinds), readers)


def path(*keys: str) -> Callable[[Mapping[str, Any]], Any]:
    """A reader for a nested field, e.g. `path("status", "phase")`."""

    def read(item: Mapping[str, Any]) -> Any:
        value: Any = item
        for key in keys:
            value = value.get(key) if isinstance(value, Mapping) else None
        return value

    return read


def parse_filters(raw: Sequence[str] | str | None, known: Fields) -> list[Filter]:
    if raw is None:
        return []
    items = [raw] if isinstance(raw, str) else list(raw)
    filters = []
    for text in items:
        if not isinstance(text, str) or not text:
            raise QueryError("filterBy: an empty filter; use field, operator and value, e.g. name==my-job")
        filters.append(_parse_one(text, known))
    return filters


def _parse_one(text: str, known: Fields) -> Filter:
    match = re.match(r"^([A-Za-z0-9]+)(.*)$", text)
    field_name = match.group(1) if match else ""
    rest = match.group(2) if match else text
    if field_name not in known.kinds:
        raise QueryError(
            f"filterBy '{text}': unknown field '{field_name}'; filterable fields: {', '.join(known.kinds)}"
        )
    operator = next((op for op in OPERATORS if rest.startswith(op)), None)
    if operator is None:
        raise QueryError(f"filterBy '{text}': unknown operator; use one of {', '.join(OPERATORS)}")
    value = rest[len(operator) :]
    if not value:
        raise QueryError(f"filterBy '{text}': the value is missing")
    kind = known.kinds[field_name]
    if kind in (Kind.DATE, Kind.NUMBER, Kind.BOOLEAN) and operator not in ORDERING_ONLY:
        raise QueryError(
            f"filterBy '{text}': {field_name} is a {kind.value}; it takes only ==, !=, <= and >="
        )
    if kind is Kind.NUMBER:
        _number(value, text)
    elif kind is Kind.DATE:
        _date(value, text)
    elif kind is Kind.BOOLEAN and value not in ("true", "false"):
        raise QueryError(f"filterBy '{text}': {field_name} is true or false")
    return Filter(field_name, operator, value)


def _number(value: str, text: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise QueryError(f"filterBy '{text}': '{value}' is not a number") from None


def _date(value: str, text: str) -> datetime.datetime:
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise QueryError(f"filterBy '{text}': '{value}' is not an ISO 8601 date-time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


def _comparable(value: Any, kind: Kind) -> Any:
    if kind is Kind.NUMBER:
        return float(value)
    if kind is Kind.DATE:
        return _date(str(value), str(value))
    if kind is Kind.BOOLEAN:
        return str(value).lower() if not isinstance(value, bool) else ("true" if value else "false")
    return str(value)


def matches(item: Mapping[str, Any], flt: Filter, known: Fields) -> bool:
    kind = known.kinds[flt.field]
    actual = known.read(item, flt.field)
    if actual is None:
        # A field the item does not have equals nothing, so only the negative operators hold.
        return flt.operator in ("!=", "!@")
    left, right = _comparable(actual, kind), _comparable(flt.value, kind)
    if flt.operator == "==":
        return bool(left == right)
    if flt.operator == "!=":
        return bool(left != right)
    if flt.operator == "<=":
        return bool(left <= right)
    if flt.operator == ">=":
        return bool(left >= right)
    if flt.operator == "=@":
        return right in left
    if flt.operator == "!@":
        return right not in left
    if flt.operator == "=^":
        return bool(left.startswith(right))
    return bool(left.endswith(right))


def check_sort(sort_by: str | None, sort_order: str | None, known: Fields) -> None:
    if sort_order not in (None, "asc", "desc"):
        raise QueryError(f"sortOrder '{sort_order}': use asc or desc")
    if sort_by is not None and sort_by not in known.kinds:
        raise QueryError(f"sortBy '{sort_by}': sortable fields are {', '.join(known.kinds)}")


def window(offset: int | None, limit: int | None) -> tuple[int, int]:
    """(start, size) of a page, or QueryError for a limit out of range."""
    # The documents bound `limit` but not `offset`: a negative offset is schema-valid, so it reads as 0.
    start = max(0, offset or 0)
    size = DEFAULT_LIMIT if limit is None else limit
    if not 1 <= size <= MAX_LIMIT:
        raise QueryError(f"limit {size}: must be between 1 and {MAX_LIMIT}")
    return start, size


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next: int | None
    total: int


def select(
    items: Sequence[dict[str, Any]],
    known: Fields,
    *,
    filter_by: Sequence[str] | str | None = None,
    search: str | None = None,
    search_in: Sequence[str] = ("name",),
) -> list[dict[str, Any]]:
    """The items that pass every filter (they combine with AND) and the free-text search."""
    filters = parse_filters(filter_by, known)
    needle = (search or "").strip().lower()
    chosen = []
    for item in items:
        if not all(matches(item, f, known) for f in filters):
            continue
        if needle and not any(needle in str(known.read(item, f) or "").lower() for f in search_in):
            continue
        chosen.append(item)
    return chosen


def page(
    items: Sequence[dict[str, Any]],
    known: Fields,
    *,
    sort_by: str | None = None,
    sort_order: str | None = None,
    offset: int | None = None,
    limit: int | None = None,
) -> Page:
    """Order and cut a list; `next` is the offset of the following page when there is one."""
    check_sort(sort_by, sort_order, known)
    start, size = window(offset, limit)
    ordered = list(items)
    if sort_by is not None:
        kind, field_name = known.kinds[sort_by], sort_by
        # Items without the field go last whatever the order, as databases put NULLs.
        present = [i for i in ordered if known.read(i, field_name) is not None]
        absent = [i for i in ordered if known.read(i, field_name) is None]
        present.sort(key=lambda i: _comparable(known.read(i, field_name), kind), reverse=sort_order == "desc")
        ordered = present + absent
    cut = ordered[start : start + size]
    following = start + size if start + size < len(ordered) else None
    return Page(cut, following, len(ordered))

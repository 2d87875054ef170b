"""One page of a list answer (`{<key>: [...], next}`), or the documented 400 for an unusable query."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mockserver.http.errors import error_response
from mockserver.views.filtering import Fields, QueryError, page, select


def listed(
    key: str,
    items: Sequence[dict[str, Any]],
    known: Fields,
    *,
    filter_by: Sequence[str] | str | None = None,
    search: str | None = None,
    sort_by: str | None = None,
    sort_order: str | None = None,
    offset: int | None = None,
    limit: int | None = None,
) -> Any:
    try:
        chosen = select(items, known, filter_by=filter_by, search=search)
        cut = page(chosen, known, sort_by=sort_by, sort_order=sort_order, offset=offset, limit=limit)
    except QueryError as error:
        return error_response(400, str(error))
    answer: dict[str, Any] = {key: cut.items}
    if cut.next is not None:
        answer["next"] = cut.next
    return answer, 200

"""Opaque NextToken pagination, the one helper every List operation uses.

The token is unsigned base64url JSON holding one cursor, `{"<key>": n}`: the id (or version) of the last row of the
previous page, an integer, or a string for tables keyed by one (access keys). The client must not interpret it;
anything else (bad base64, other keys, a cursor of the wrong type or outside the database's integer range) is a
ValidationException, never a 500.
"""

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from service.db.engine import MAX_INTEGER
from service.errors import ValidationException

MAX_RESULTS = 100
_INVALID = "Invalid NextToken: pass the NextToken of a previous response unchanged."

MAX_TEXT_CURSOR = 255
Row = TypeVar("Row")
Cursor = int | str


@dataclass(frozen=True)
class PageRequest:
    """A List call's page: at most `limit` rows after `cursor` (None on the first page). Queries fetch `limit + 1`
    rows so `page_response` can tell whether another page follows."""

    key: str
    limit: int
    cursor: Cursor | None


def encode_token(cursor: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(cursor, separators=(",", ":")).encode()).decode().rstrip("=")


def _valid_cursor(value: Any, cursor_type: type[Cursor]) -> bool:
    if cursor_type is str:
        return isinstance(value, str) and 0 < len(value) <= MAX_TEXT_CURSOR and value.isprintable()
    return not isinstance(value, bool) and isinstance(value, int) and 0 <= value <= MAX_INTEGER


def _decode_cursor(token: str, key: str, cursor_type: type[Cursor]) -> Cursor:
    try:
        padded = token + "=" * (-len(token) % 4)
        cursor = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ValidationException(_INVALID) from None
    if not isinstance(cursor, dict) or set(cursor) != {key}:
        raise ValidationException(_INVALID)
    value = cursor[key]
    if not _valid_cursor(value, cursor_type):
        raise ValidationException(_INVALID)
    return value


def page_size(max_results: int | None) -> int:
    if max_results is None:
        return MAX_RESULTS
    if not 1 <= max_results <= MAX_RESULTS:
        raise ValidationException(f"MaxResults must be between 1 and {MAX_RESULTS}; got {max_results}.")
    return max_results


def page_request(
    next_token: str | None, max_results: int | None, *, key: str, cursor_type: type[Cursor] = int
) -> PageRequest:
    """Validate a List call's `NextToken` and `MaxResults`."""
    limit = page_size(max_results)
    cursor = _decode_cursor(next_token, key, cursor_type) if next_token else None
    return PageRequest(key=key, limit=limit, cursor=cursor)


def page_response(
    page: PageRequest,
    rows: Sequence[Row],
    *,
    items: str,
    shape: Callable[[Row], Any],
    cursor_of: Callable[[Row], Cursor | None],
) -> dict[str, Any]:
    """`{items: [shape(row)...]}` for the page's rows, with the `NextToken` of the next page when there is one."""
    response: dict[str, Any] = {items: [shape(row) for row in rows[: page.limit]]}
    if len(rows) > page.limit:
        response["NextToken"] = encode_token({page.key: cursor_of(rows[page.limit - 1])})
    return response

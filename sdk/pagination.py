"""Auto-paging: iterate over every item of a NextToken-paged operation."""

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def paginate(fetch: Callable[[str | None], dict[str, Any]], items_key: str, build: Callable[[Any], T]) -> Iterator[T]:
    """Call `fetch(next_token)` until the service stops returning a NextToken, yielding `build(item)` for each item."""
    token: str | None = None
    while True:
        page = fetch(token)
        for item in page.get(items_key, []):
            yield build(item)
        token = page.get("NextToken")
        if not token:
            return

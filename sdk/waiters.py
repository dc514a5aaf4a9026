"""Polling until a resource reaches a wanted state, with a timeout and an optional progress callback."""

import time
from collections.abc import Callable, Collection
from typing import TypeVar

from sdk.errors import ResourceFailedError, WaiterTimeoutError

T = TypeVar("T")


def wait_for(
    refresh: Callable[[], T],
    status_of: Callable[[T], str],
    *,
    wanted: Collection[str],
    failed: Collection[str],
    timeout: float,
    poll_interval: float,
    describe: Callable[[T], str],
    on_poll: Callable[[T], None] | None = None,
    failure_detail: Callable[[T], str | None] | None = None,
) -> T:
    """Call `refresh` every `poll_interval` s until `status_of` gives a wanted status; ResourceFailedError (with the
    resource's own explanation from `failure_detail`) on a failed one, WaiterTimeoutError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        current = refresh()
        if on_poll is not None:
            on_poll(current)
        status = status_of(current)
        if status in wanted:
            return current
        if status in failed:
            detail = failure_detail(current) if failure_detail is not None else None
            raise ResourceFailedError(f"{describe(current)} reached {status}" + (f": {detail}" if detail else ""))
        if time.monotonic() >= deadline:
            raise WaiterTimeoutError(f"{describe(current)} is still {status} after {timeout:.0f} s")
        time.sleep(poll_interval)

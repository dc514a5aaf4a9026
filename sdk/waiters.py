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
) -> T:
    deadline = time.monotonic() + timeout
    while True:
        current = refresh()
        if on_poll is not None:
            on_poll(current)
        status = status_of(current)
        if status in wanted:
            return current
        if status in failed:
            raise ResourceFailedError(f"{describe(current)} reached {status}")
        if time.monotonic() >= deadline:
            raise WaiterTimeoutError(f"{describe(current)} is still {status} after {timeout:.0f} s")
        time.sleep(poll_interval)

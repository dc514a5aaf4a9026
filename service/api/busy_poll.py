"""Keeping the event loop awake between DetectAnomalies requests that follow each other closely.

A client that sends its next image as soon as it has the answer (a camera line, a script over a folder) writes it a
fraction of a millisecond later. By then an idle event loop has gone to sleep in the kernel, and on a VM its vCPU has
halted: waking both costs more than the gap itself, and the code that runs next starts on cold caches. So after each
answer, while no other DetectAnomalies is in flight, the loop keeps polling its sockets (each pass is an `epoll` with
a zero timeout and one callback) for `window_s` before it may sleep, as Linux's `busy_poll` does for sockets. It costs
at most that window of one core per answer and never runs while a request is being served, when the inference units
need the cores.
"""

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager


class BusyPoll:
    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._in_flight = 0
        self._until = 0.0
        self._polling = False

    @property
    def polling(self) -> bool:
        return self._polling

    @contextmanager
    def serving(self) -> Iterator[None]:
        """Around one request: no polling while it is served; the window opens when it has its answer."""
        self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1
            self._open_window()

    def _open_window(self) -> None:
        if self.window_s <= 0:
            return
        self._until = time.perf_counter() + self.window_s
        if not self._polling:
            self._polling = True
            asyncio.get_running_loop().call_soon(self._poll)

    def _poll(self) -> None:
        """One pass: a pending callback makes the loop's next `epoll` return at once instead of sleeping."""
        if self._in_flight == 0 and time.perf_counter() < self._until:
            asyncio.get_running_loop().call_soon(self._poll)
        else:
            self._polling = False

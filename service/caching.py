"""A small time-bounded cache: what a request path reads on every call but changes rarely (access keys, a hosted
model's status and threshold), kept for a few seconds so other API replicas' changes are seen within that time."""

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class TtlCache(Generic[V]):
    """Values kept `ttl_s` seconds after they were loaded; `clear` drops them all (a local change just committed).

    A load that started before a `clear` is not kept, so a change committed while a value was read cannot be
    hidden behind the value read before it."""

    def __init__(self, ttl_s: float, *, clock: Callable[[], float] = time.monotonic, max_entries: int = 4096) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[float, V]] = {}
        self._generation = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable, load: Callable[[], V]) -> V:
        """The cached value for `key`, else `load()`: kept unless it is None (something absent is looked up again, so
        what another replica creates is seen at once) or raised."""
        now = self.clock()
        entry = self._entries.get(key)
        if entry is not None and now - entry[0] < self.ttl_s:
            return entry[1]
        generation = self._generation
        value = load()
        with self._lock:
            if value is not None and generation == self._generation and self.ttl_s > 0:
                if len(self._entries) >= self.max_entries:
                    self._entries.clear()
                self._entries[key] = (now, value)
        return value

    def peek(self, key: Hashable) -> V | None:
        """The cached value for `key` if it is still fresh, without loading."""
        entry = self._entries.get(key)
        return entry[1] if entry is not None and self.clock() - entry[0] < self.ttl_s else None

    def discard(self, key: Hashable) -> None:
        with self._lock:
            self._generation += 1
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()

"""The TTL cache request paths use for access keys and hosted model settings."""

import pytest

from service.caching import TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_value_is_reused_until_its_ttl_runs_out() -> None:
    clock, loads = Clock(), []
    cache: TtlCache[int] = TtlCache(2.0, clock=clock)

    def load() -> int:
        loads.append(clock.now)
        return len(loads)

    assert [cache.get("k", load), cache.get("k", load)] == [1, 1]
    clock.now += 1.9
    assert cache.get("k", load) == 1 and cache.peek("k") == 1
    clock.now += 0.2
    assert cache.peek("k") is None
    assert cache.get("k", load) == 2
    assert loads == pytest.approx([100.0, 102.1])


def test_clear_and_discard_drop_values_at_once() -> None:
    cache: TtlCache[str] = TtlCache(60.0, clock=Clock())
    cache.get("a", lambda: "old a")
    cache.get("b", lambda: "old b")
    cache.discard("a")
    assert cache.get("a", lambda: "new a") == "new a" and cache.get("b", lambda: "new b") == "old b"
    cache.clear()
    assert cache.get("b", lambda: "new b") == "new b"


def test_a_load_that_raced_a_clear_is_not_kept() -> None:
    cache: TtlCache[str] = TtlCache(60.0, clock=Clock())

    def stale_load() -> str:
        cache.clear()  # a change commits while this value is read
        return "read before the change"

    assert cache.get("k", stale_load) == "read before the change"
    assert cache.get("k", lambda: "after the change") == "after the change"


def test_absent_values_and_failures_are_not_cached() -> None:
    cache: TtlCache[str | None] = TtlCache(60.0, clock=Clock())
    assert cache.get("k", lambda: None) is None
    assert cache.get("k", lambda: "created since") == "created since"

    def failing() -> str:
        raise RuntimeError("database down")

    cache.clear()
    try:
        cache.get("k", failing)
    except RuntimeError:
        pass
    assert cache.get("k", lambda: "back") == "back"


def test_a_zero_ttl_reads_every_time() -> None:
    cache: TtlCache[int] = TtlCache(0.0, clock=Clock())
    assert [cache.get("k", lambda: 1), cache.get("k", lambda: 2)] == [1, 2]

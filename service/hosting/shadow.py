"""Shadow traffic, off the request's critical path: which deployment answers for which, and running a copy of a live
request on the shadow's own units.

A request thread does two cheap things here: it looks up a route (a dict read) and, after its live answer, hands the
decoded image to the shadow deployment's bounded queue without waiting. Shadow work is skipped when the sample says
so, and dropped (counted) when the live deployment has requests waiting (it is under load) or the pair's own bounded
queue is full. At most `max_in_flight` copies of a pair run at once (so a shadow takes at most that many units' cores
from the live model); the next waiting copy starts when one ends. A request never waits for its shadow. Results are written by a background recorder. Routes are plain data
that the domain sets; this module never reads the database.
"""

import logging
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Generic, TypeVar

from service.hosting.backend import InferenceBackend, InferenceRequest, NotDeployed, Overloaded, Prediction
from service.hosting.recorder import BackgroundRecorder

Record = TypeVar("Record")

log = logging.getLogger("openlv.hosting")


@dataclass(frozen=True)
class ShadowRoute:
    """A running pair: requests addressed to either model are answered by the live one and copied to the shadow."""

    shadow_id: int
    live_model_id: int
    shadow_model_id: int
    live_key: str
    shadow_key: str
    sample_percent: float


@dataclass(frozen=True)
class _Copy(Generic[Record]):
    route: ShadowRoute
    request: InferenceRequest
    result: Callable[[Prediction, float], Record]


@dataclass(frozen=True)
class ShadowCounts:
    dropped: int = 0
    failed: int = 0


class ShadowRunner(Generic[Record]):
    def __init__(
        self,
        backend: InferenceBackend,
        write: Callable[[Sequence[Record]], None],
        *,
        draw: Callable[[], float] = random.random,
        max_in_flight: int = 1,
        queue_capacity: int = 16,
    ) -> None:
        self.backend = backend
        self.max_in_flight = max_in_flight
        self.queue_capacity = queue_capacity
        self.recorder: BackgroundRecorder[Record] = BackgroundRecorder(write)
        self._draw = draw
        self._routes: dict[int, ShadowRoute] = {}
        self._lock = threading.Lock()
        self._dropped: Counter[int] = Counter()
        self._failed: Counter[int] = Counter()
        self._settled = threading.Condition()
        self._submitted = 0
        self._finished = 0
        self._in_flight: Counter[int] = Counter()
        self._waiting: dict[int, deque[_Copy[Record]]] = {}

    def route(self, model_id: int) -> ShadowRoute | None:
        """The running pair `model_id` belongs to (as live or shadow), if any."""
        return self._routes.get(model_id)

    def set_route(self, route: ShadowRoute) -> None:
        """Start or change a pair; the table is replaced whole, so a reader sees the old pair or the new one."""
        with self._lock:
            routes = {key: value for key, value in self._routes.items() if value.shadow_id != route.shadow_id}
            routes[route.live_model_id] = route
            routes[route.shadow_model_id] = route
            self._routes = routes

    def remove_route(self, shadow_id: int) -> None:
        with self._lock:
            self._routes = {key: value for key, value in self._routes.items() if value.shadow_id != shadow_id}

    def run(self, route: ShadowRoute, request: InferenceRequest, result: Callable[[Prediction, float], Record]) -> bool:
        """Hand over the shadow's copy of an answered request; `result(prediction, latency_ms)` builds the record once
        the shadow answers. Never blocks; False when the copy was skipped (not sampled) or dropped (counted)."""
        if route.sample_percent < 100 and self._draw() * 100 >= route.sample_percent:
            return False
        live = self.backend.status(route.live_key)
        copy = _Copy(route, request, result)
        start_now = False
        with self._settled:
            waiting = self._waiting.setdefault(route.shadow_id, deque())
            if live is None or live.queue_depth > 0 or len(waiting) >= self.queue_capacity:
                busy = True
            else:
                busy, self._submitted = False, self._submitted + 1
                if self._in_flight[route.shadow_id] < self.max_in_flight:
                    self._in_flight[route.shadow_id] += 1
                    start_now = True
                else:
                    waiting.append(copy)
        if busy:
            self._count(self._dropped, route.shadow_id)
            return False
        if start_now:
            self._start(copy)
        return True

    def _start(self, copy: "_Copy[Record]") -> None:
        started = time.perf_counter()
        try:
            future = self.backend.submit(copy.route.shadow_key, copy.request)
        except (Overloaded, NotDeployed):
            self._count(self._dropped, copy.route.shadow_id)
            self._ended(copy.route)
            return
        future.add_done_callback(lambda done: self._finish(copy, done, started))

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until as many shadow runs have finished as were queued before this call, and their results are
        written; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._settled:
            target = self._submitted
            settled = self._settled.wait_for(lambda: self._finished >= target, timeout=timeout)
        return self.recorder.flush(timeout=max(0.0, deadline - time.monotonic())) and settled

    def take_counts(self) -> dict[int, ShadowCounts]:
        """Drops and failures counted since the last call, per pair (the caller adds them to the stored totals)."""
        with self._lock:
            dropped, failed = self._dropped, self._failed
            self._dropped, self._failed = Counter(), Counter()
        return {key: ShadowCounts(dropped=dropped[key], failed=failed[key]) for key in set(dropped) | set(failed)}

    def close(self) -> None:
        self.recorder.close()

    def _finish(self, copy: "_Copy[Record]", done: "Future[Prediction]", started: float) -> None:
        try:
            self._settle(copy.route, done, started, copy.result)
        finally:
            self._ended(copy.route)

    def _ended(self, route: ShadowRoute) -> None:
        """One copy is done (answered, failed or dropped): count it and start the pair's next waiting copy."""
        following = None
        with self._settled:
            self._finished += 1
            self._in_flight[route.shadow_id] -= 1
            waiting = self._waiting.get(route.shadow_id)
            if waiting:
                following = waiting.popleft()
                self._in_flight[route.shadow_id] += 1
            self._settled.notify_all()
        if following is not None:
            self._start(following)

    def _settle(
        self,
        route: ShadowRoute,
        done: "Future[Prediction]",
        started: float,
        result: Callable[[Prediction, float], Record],
    ) -> None:
        latency_ms = 1000.0 * (time.perf_counter() - started)
        error = None if done.cancelled() else done.exception()
        if done.cancelled() or isinstance(error, NotDeployed):
            self._count(self._dropped, route.shadow_id)
        elif error is not None:
            self._count(self._failed, route.shadow_id)
        else:
            try:
                record = result(done.result(), latency_ms)
            except Exception:
                log.exception("recording a shadow result of pair %d failed", route.shadow_id)
                self._count(self._failed, route.shadow_id)
                return
            self.recorder.record(record)

    def _count(self, counter: Counter[int], shadow_id: int) -> None:
        with self._lock:
            counter[shadow_id] += 1

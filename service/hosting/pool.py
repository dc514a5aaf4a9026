"""The inference units of one hosted model: a bounded queue, the units that drain it, and their scaling."""

import math
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from service.hosting.autoscaling import ScalingPolicy, desired_units, is_low_load
from service.hosting.backend import (
    DeploymentError,
    DeploymentStatus,
    InferenceRequest,
    NotDeployed,
    Overloaded,
    Prediction,
)
from service.hosting.predictor import BatchPredictor
from service.hosting.unit import InferenceUnit, Job

UNIT_LOAD_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class PoolOptions:
    queue_capacity: int
    max_batch: int
    policy: ScalingPolicy


class UnitPool:
    """Units between `min_units` and `max_units` serving one bounded queue.

    `submit` never blocks: a full queue raises `Overloaded` with an estimate of when to retry. `autoscale` (called
    periodically by the backend) adds a unit under load and removes one after a quiet spell.
    """

    def __init__(
        self,
        key: str,
        load: Callable[[], BatchPredictor],
        *,
        min_units: int,
        max_units: int,
        options: PoolOptions,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 1 <= min_units <= max_units:
            raise ValueError(f"need 1 <= min_units <= max_units, got {min_units} and {max_units}")
        self.key = key
        self.load = load
        self.min_units = min_units
        self.max_units = max_units
        self.options = options
        self.clock = clock
        self.jobs: queue.Queue[Job] = queue.Queue(maxsize=options.queue_capacity)
        self.units: list[InferenceUnit] = []
        self._lock = threading.Lock()
        self._serial = 0
        self._stopped = False
        self._seconds_per_image = 0.0
        self._last_tick = clock()
        self._last_busy = 0.0
        self._low_since: float | None = None
        self._utilisation = 0.0

    def start(self) -> None:
        """Start `min_units` units and wait until each has loaded the model; raises `DeploymentError`."""
        units = [self._add_unit() for _ in range(self.min_units)]
        for unit in units:
            unit.ready.wait(UNIT_LOAD_TIMEOUT_S)
            error = unit.error or (None if unit.ready.is_set() else DeploymentError("loading the model timed out"))
            if error is not None:
                self.stop()
                raise error

    def submit(self, request: InferenceRequest) -> "Future[Prediction]":
        if self._stopped:
            raise NotDeployed(self.key)
        job = Job(request)
        try:
            self.jobs.put_nowait(job)
        except queue.Full:
            raise Overloaded(
                f"all {self.current_units} inference units are busy and {self.jobs.qsize()} requests are waiting",
                retry_after_s=self.retry_after_s(),
            ) from None
        return job.future

    def retry_after_s(self) -> float:
        """Time for the units to work through the queue at the recent per-image speed."""
        waiting = self.jobs.qsize() + self.current_units
        return max(1.0, math.ceil(waiting * self._seconds_per_image / max(1, self.current_units)))

    @property
    def current_units(self) -> int:
        with self._lock:
            return sum(1 for unit in self.units if unit.ready.is_set() and unit.error is None)

    def status(self) -> DeploymentStatus:
        return DeploymentStatus(
            current_units=self.current_units, queue_depth=self.jobs.qsize(), utilisation=self._utilisation
        )

    def autoscale(self) -> int:
        """Measure utilisation since the last call, add or retire at most one unit; returns the units wanted."""
        now = self.clock()
        with self._lock:
            self.units = [unit for unit in self.units if unit.alive or not unit.ready.is_set()]
            busy = sum(unit.busy_seconds for unit in self.units)
            live = len(self.units)
        elapsed = max(now - self._last_tick, 1e-6)
        self._utilisation = min(1.0, max(0.0, busy - self._last_busy) / (elapsed * max(1, live)))
        self._last_tick, self._last_busy = now, busy
        depth = self.jobs.qsize()
        if is_low_load(utilisation=self._utilisation, queue_depth=depth, policy=self.options.policy):
            self._low_since = now if self._low_since is None else self._low_since
        else:
            self._low_since = None
        wanted = desired_units(
            current=live,
            min_units=self.min_units,
            max_units=self.max_units,
            utilisation=self._utilisation,
            queue_depth=depth,
            low_load_for_s=0.0 if self._low_since is None else now - self._low_since,
            policy=self.options.policy,
        )
        if wanted > live and not self._stopped:
            self._add_unit()
        elif wanted < live:
            self._retire_one()
            self._low_since = now
        return wanted

    def stop(self) -> None:
        """Retire every unit and fail the requests still waiting."""
        self._stopped = True
        with self._lock:
            units, self.units = self.units, []
        for unit in units:
            unit.retire()
        while True:
            try:
                job = self.jobs.get_nowait()
            except queue.Empty:
                break
            if job.future.set_running_or_notify_cancel():
                job.future.set_exception(NotDeployed(self.key))
        for unit in units:
            unit.join(timeout=10)

    def _add_unit(self) -> InferenceUnit:
        with self._lock:
            self._serial += 1
            unit = InferenceUnit(
                f"lv-unit-{self.key}-{self._serial}",
                self.jobs,
                self.load,
                max_batch=self.options.max_batch,
                on_batch=self._record_batch,
            )
            self.units.append(unit)
        unit.start()
        return unit

    def _retire_one(self) -> None:
        with self._lock:
            if len(self.units) <= self.min_units:
                return
            unit = self.units.pop()
        unit.retire()

    def _record_batch(self, size: int, seconds: float) -> None:
        per_image = seconds / max(1, size)
        previous = self._seconds_per_image
        self._seconds_per_image = per_image if previous == 0 else 0.8 * previous + 0.2 * per_image

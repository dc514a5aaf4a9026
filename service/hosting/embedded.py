"""The default `InferenceBackend`: inference units as threads of the API process, one `UnitPool` per deployment."""

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from service.hosting.autoscaling import ScalingPolicy
from service.hosting.backend import DeploymentSpec, DeploymentStatus, InferenceRequest, NotDeployed, Prediction
from service.hosting.pool import PoolOptions, UnitPool
from service.hosting.predictor import BatchPredictor

log = logging.getLogger("openlv.hosting")

PredictorLoader = Callable[[Path, int, str], BatchPredictor]
"""(artifacts_dir, intra-op threads, runtime) -> a loaded predictor."""


class EmbeddedBackend:
    def __init__(
        self,
        load_predictor: PredictorLoader,
        *,
        cpu_cores: int,
        queue_per_unit: int,
        max_batch: int,
        scale_interval_s: float,
        policy: ScalingPolicy,
    ) -> None:
        self.load_predictor = load_predictor
        self.cpu_cores = cpu_cores
        self.queue_per_unit = queue_per_unit
        self.max_batch = max_batch
        self.policy = policy
        self._pools: dict[str, UnitPool] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._scale_interval_s = scale_interval_s
        self._scaler = threading.Thread(target=self._scale_forever, name="lv-autoscaler", daemon=True)
        self._scaler.start()

    def start(self, spec: DeploymentSpec) -> None:
        threads = max(1, self.cpu_cores // spec.max_units)
        options = PoolOptions(
            queue_capacity=max(1, self.queue_per_unit * spec.max_units), max_batch=self.max_batch, policy=self.policy
        )
        pool = UnitPool(
            spec.key,
            lambda: self.load_predictor(spec.artifacts_dir, threads, spec.runtime),
            min_units=spec.min_units,
            max_units=spec.max_units,
            options=options,
        )
        pool.start()
        with self._lock:
            previous = self._pools.pop(spec.key, None)
            self._pools[spec.key] = pool
        if previous is not None:
            previous.stop()

    def stop(self, key: str) -> None:
        with self._lock:
            pool = self._pools.pop(key, None)
        if pool is not None:
            pool.stop()

    def submit(self, key: str, request: InferenceRequest) -> "Future[Prediction]":
        pool = self._pools.get(key)
        if pool is None:
            raise NotDeployed(key)
        return pool.submit(request)

    def status(self, key: str) -> DeploymentStatus | None:
        pool = self._pools.get(key)
        return None if pool is None else pool.status()

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.stop()
        self._scaler.join(timeout=5)

    def _scale_forever(self) -> None:
        while not self._closed.wait(self._scale_interval_s):
            with self._lock:
                pools = list(self._pools.values())
            for pool in pools:
                try:
                    pool.autoscale()
                except Exception:
                    log.exception("autoscaling %s failed", pool.key)

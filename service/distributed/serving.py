"""The Ray Serve `InferenceBackend`: one Serve application per hosted model version, named by its deployment key.

Units are Serve replicas, autoscaled by Serve between Min- and MaxInferenceUnits. Nothing is kept per API process but
handle objects: any replica reaches any deployment by name, a deployment outlives the API process that started it (so
after an API restart, re-hosting finds it running and leaves it be), and `close` only lets go of the handles.
A full queue (`max_queued_requests`, LV_HOSTING_QUEUE_PER_UNIT per unit at max units) is Serve's `BackPressureError`,
answered as `Overloaded` (ThrottlingException with Retry-After). A handle's answer is waited for on a thread of this
backend, never on the caller's: DetectAnomalies awaits the returned future on the event loop, where Serve refuses
blocking calls.
"""

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from ray import serve
from ray.serve.exceptions import BackPressureError, RayServeException
from ray.serve.schema import ReplicaState

from service.distributed.cluster import connect
from service.distributed.replica import INFERENCE_UNIT, read_artifacts
from service.hosting.backend import (
    DeploymentError,
    DeploymentSpec,
    DeploymentStatus,
    InferenceRequest,
    NotDeployed,
    Overloaded,
    Prediction,
)
from service.settings import Settings

log = logging.getLogger("openlv.hosting")

RUNNING = "RUNNING"
RETRY_AFTER_S = 1.0
WAITING_THREADS = 64
"""Requests of this API process waiting for a Serve answer at once (Serve's own queue bounds how many it accepts)."""


class RayServeBackend:
    def __init__(self, settings: Settings) -> None:
        connect(settings)
        serve.start(proxy_location="Disabled")
        self.settings = settings
        self._handles: dict[str, serve.handle.DeploymentHandle] = {}
        self._lock = threading.Lock()
        self._waiters = ThreadPoolExecutor(WAITING_THREADS, thread_name_prefix="openlv-serve-wait")

    def start(self, spec: DeploymentSpec) -> None:
        if self._app_status(spec.key) == RUNNING:
            log.info("Serve application %s already runs; leaving it be", spec.key)
            return
        settings = self.settings
        max_batch = settings.hosting_max_batch
        unit = INFERENCE_UNIT.options(
            autoscaling_config={
                "min_replicas": spec.min_units,
                "initial_replicas": spec.min_units,
                "max_replicas": spec.max_units,
                "target_ongoing_requests": max(1, max_batch // 2),
                "downscale_delay_s": settings.hosting_scale_down_after_s,
            },
            max_ongoing_requests=max_batch * 2,
            max_queued_requests=max(1, settings.hosting_queue_per_unit * spec.max_units),
            ray_actor_options={"num_cpus": settings.ray_unit_num_cpus},
        )
        threads = max(1, int(settings.ray_unit_num_cpus))
        application = unit.bind(read_artifacts(spec.artifacts_dir), spec.runtime, threads, max_batch)
        try:
            handle = serve.run(application, name=spec.key, route_prefix=None)
        except Exception as exc:
            self._delete(spec.key)
            raise DeploymentError(f"the Ray Serve deployment did not start: {exc}") from exc
        with self._lock:
            self._handles[spec.key] = handle

    def stop(self, key: str) -> None:
        with self._lock:
            self._handles.pop(key, None)
        self._delete(key)

    def submit(self, key: str, request: InferenceRequest) -> "Future[Prediction]":
        """The answer's future; a full queue fails it with `Overloaded`, a deleted application with `NotDeployed`."""
        handle = self._handle(key)
        return self._waiters.submit(self._answer, key, handle, request)

    def _answer(self, key: str, handle: serve.handle.DeploymentHandle, request: InferenceRequest) -> Prediction:
        try:
            prediction: Prediction = handle.remote(request).result(timeout_s=self.settings.hosting_request_timeout_s)
        except BackPressureError as exc:
            raise Overloaded(f"every inference unit is busy and the queue is full ({exc})", RETRY_AFTER_S) from None
        except RayServeException as exc:
            if self._app_status(key) is None:
                raise NotDeployed(key) from exc
            raise
        return prediction

    def status(self, key: str) -> DeploymentStatus | None:
        application = serve.status().applications.get(key)
        if application is None:
            return None
        units = sum(
            deployment.replica_states.get(ReplicaState.RUNNING, 0) for deployment in application.deployments.values()
        )
        return DeploymentStatus(current_units=units, queue_depth=0, utilisation=0.0)

    def close(self) -> None:
        self._waiters.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            self._handles.clear()

    def _handle(self, key: str) -> serve.handle.DeploymentHandle:
        with self._lock:
            handle = self._handles.get(key)
        if handle is not None:
            return handle
        if self._app_status(key) is None:
            raise NotDeployed(key)
        handle = serve.get_app_handle(key)
        with self._lock:
            self._handles[key] = handle
        return handle

    def _app_status(self, key: str) -> str | None:
        application = serve.status().applications.get(key)
        return None if application is None else str(getattr(application.status, "value", application.status))

    def _delete(self, key: str) -> None:
        if self._app_status(key) is not None:
            serve.delete(key)

"""An inference unit: one thread that owns one loaded model session and serves queued requests in micro-batches.

ONNX Runtime and OpenVINO release the GIL while they compute, so units in threads run in parallel; each session gets
`cores // max_units` intra-op threads so that a model at its maximum size never oversubscribes the CPU.
"""

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

from service.hosting.backend import DeploymentError, InferenceRequest, Prediction
from service.hosting.batch import predict_batch
from service.hosting.predictor import BatchPredictor

log = logging.getLogger("openlv.hosting")

_POLL_S = 0.1


@dataclass
class Job:
    request: InferenceRequest
    future: "Future[Prediction]" = field(default_factory=Future)
    queued_at: float = field(default_factory=time.perf_counter)


class InferenceUnit:
    """Loads its predictor in its own thread, then takes jobs from the shared queue until retired.

    A job is taken with up to `max_batch - 1` further waiting jobs of the same image size, run as one batch.
    """

    def __init__(
        self,
        name: str,
        jobs: "queue.Queue[Job]",
        load: Callable[[], BatchPredictor],
        *,
        max_batch: int,
        on_batch: Callable[[int, float], None],
    ) -> None:
        self.name = name
        self.jobs = jobs
        self.load = load
        self.max_batch = max_batch
        self.on_batch = on_batch
        self.ready = threading.Event()
        self.error: DeploymentError | None = None
        self.busy_seconds = 0.0
        self._retired = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def retire(self) -> None:
        """Finish the batch in hand, then stop taking jobs."""
        self._retired.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            predictor = self.load()
        except DeploymentError as exc:
            self.error = exc
            self.ready.set()
            return
        self.ready.set()
        carried: Job | None = None
        while carried is not None or not self._retired.is_set():
            if carried is None:
                try:
                    carried = self.jobs.get(timeout=_POLL_S)
                except queue.Empty:
                    continue
            batch, carried = self._batch_from(carried)
            runnable = [job for job in batch if job.future.set_running_or_notify_cancel()]
            if runnable:
                self._serve(predictor, runnable)

    def _batch_from(self, first: Job) -> tuple[list[Job], Job | None]:
        """The batch starting at `first`, and the next job when it has another image size (served next)."""
        batch, shape = [first], first.request.image.shape
        while len(batch) < self.max_batch:
            try:
                candidate = self.jobs.get_nowait()
            except queue.Empty:
                break
            if candidate.request.image.shape != shape:
                return batch, candidate
            batch.append(candidate)
        return batch, None

    def _serve(self, predictor: BatchPredictor, batch: list[Job]) -> None:
        started = time.perf_counter()
        try:
            predictions = predict_batch(predictor, [job.request for job in batch])
            for job, prediction in zip(batch, predictions, strict=True):
                prediction.stages["queue"] = started - job.queued_at
                job.future.set_result(prediction)
        except Exception as exc:
            log.exception("inference unit %s failed a batch of %d", self.name, len(batch))
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(exc)
        finally:
            elapsed = time.perf_counter() - started
            self.busy_seconds += elapsed
            self.on_batch(len(batch), elapsed)

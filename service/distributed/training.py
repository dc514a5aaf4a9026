"""The Ray `JobRunner`: each claimed training job runs as one Ray task, wherever the cluster has its resources free.

The same queue as the embedded pool (`service.jobs.queue`): this API replica claims a job in the database (never more
than LV_MAX_CONCURRENT_TRAINING across replicas), submits a task that runs the training worker's code
(`run_claimed_job`) on a Ray node with the CPUs and GPUs the job asks for, and settles the job when the task ends without recording an outcome. A task whose
worker or node dies is not retried by Ray itself (`max_retries=0`): it is settled like a lost worker process, which
requeues it until LV_TRAINING_MAX_ATTEMPTS runs were made, then fails it with the reason. DeleteModel's cancellation
is `ray.cancel` (the task's KeyboardInterrupt), forced after LV_TRAINING_CANCEL_GRACE_S.
"""

import logging
import time
from collections.abc import Callable

import ray
from ray.exceptions import RayError, TaskCancelledError
from sqlalchemy.engine import Engine

from service.distributed.cluster import connect
from service.jobs.dispatcher import JobDispatcher, Settle
from service.settings import Settings
from service.training_worker import run_claimed_job

log = logging.getLogger("openlv.jobs")


def task_name(job_id: int) -> str:
    """The Ray task's name (and its worker's process title, `ray::NAME`)."""
    return f"openlv-training-job-{job_id}"


def _train(settings_json: str, job_id: int) -> None:
    logging.getLogger("openlv").setLevel(logging.INFO)
    run_claimed_job(Settings.model_validate_json(settings_json), job_id, parent_pid=None)


_train_task = ray.remote(max_retries=0)(_train)


class RayJobRunner(JobDispatcher):
    THREAD_NAME = "training-dispatcher-ray"
    LOST_REASON = "the training task stopped unexpectedly (its worker or node was lost)"

    def __init__(
        self, settings: Settings, engine: Engine, *, settle: Settle, resources: Callable[[int], tuple[float, float]]
    ) -> None:
        """`resources(job_id)`: the (CPUs, GPUs) the job's task asks Ray for."""
        super().__init__(settings, engine, settle=settle)
        self.resources = resources
        self._tasks: dict[int, ray.ObjectRef] = {}
        self._workers: dict[int, str] = {}

    def start(self) -> None:
        connect(self.settings)
        super().start()

    def cancel(self, job_id: int) -> None:
        with self._lock:
            task = self._tasks.get(job_id)
            if task is not None:
                self._kill_at.setdefault(job_id, time.monotonic() + self.settings.training_cancel_grace_s)
        if task is not None:
            ray.cancel(task)
        self._wake.set()

    def close(self) -> None:
        self._stop_loop()
        with self._lock:
            tasks, workers = dict(self._tasks), dict(self._workers)
            self._tasks.clear()
        for task in tasks.values():
            ray.cancel(task, force=True)
        for job_id in tasks:
            self.settle(job_id, "the service shut down during training", False, workers.get(job_id))

    def _own_jobs(self) -> set[int]:
        return set(self._tasks)

    def _reap(self) -> None:
        with self._lock:
            tasks = dict(self._tasks)
        if not tasks:
            return
        ready, _ = ray.wait(list(tasks.values()), num_returns=len(tasks), timeout=0)
        ended = {job_id for job_id, task in tasks.items() if task in ready}
        for job_id in ended:
            with self._lock:
                task = self._tasks.pop(job_id)
                worker_id = self._workers.pop(job_id, None)
                self._kill_at.pop(job_id, None)
            try:
                ray.get(task)
                reason = "the training task ended without recording an outcome"
            except TaskCancelledError:
                reason = "the training task was cancelled"
            except RayError as exc:
                log.warning("training task of job %s failed: %s", job_id, exc)
                reason = f"the Ray worker running the training was lost ({type(exc).__name__})"
            self.settle(job_id, reason, True, worker_id)

    def _enforce_cancellations(self) -> None:
        now = time.monotonic()
        with self._lock:
            overdue = [self._tasks[job_id] for job_id, at in self._kill_at.items() if at <= now]
        for task in overdue:
            ray.cancel(task, force=True)

    def _launch(self, job_id: int) -> None:
        num_cpus, num_gpus = self.resources(job_id)
        task = _train_task.options(name=task_name(job_id), num_cpus=num_cpus, num_gpus=num_gpus).remote(
            self.settings.worker_json(), job_id
        )
        worker_id = f"ray:{task.task_id().hex()}"
        with self._lock:
            self._tasks[job_id] = task
            self._workers[job_id] = worker_id
        self._record_worker(job_id, worker_id)
        log.info("training job %s runs as Ray task %s", job_id, worker_id)

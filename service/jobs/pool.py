"""The embedded `JobRunner`: a dispatcher thread in the service that runs each training job in a worker process.

At most `max_concurrent_training` jobs run at once (counted in the database, so the limit holds across restarts);
the rest wait QUEUED. A worker is `worker_command` plus the job id (`python -m service.training_worker JOB_ID`), so a crash, a leak or an OOM kill in
training never takes the API down, and the API stays responsive while models train. Its output goes to
`LV_HOME/logs/training-job-<id>.log`.
"""

import logging
import subprocess
import time

from sqlalchemy.engine import Engine

from service.jobs.dispatcher import JobDispatcher, Settle
from service.jobs.queue import process_id
from service.jobs.worker import SETTINGS_VARIABLE
from service.settings import Settings

log = logging.getLogger("openlv.jobs")


def worker_environment(settings: Settings, base: dict[str, str]) -> dict[str, str]:
    """The environment of a worker: `base` unchanged (its `LV_*` variables included) plus the service's settings.

    The settings travel whole as JSON, so a worker sees exactly the values the service resolved (an app built with
    `create_app(Settings(...))` included), never a re-parse of the environment that could differ from them."""
    return {**base, SETTINGS_VARIABLE: settings.worker_json()}


class EmbeddedWorkerPool(JobDispatcher):
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        settle: Settle,
        environment: dict[str, str],
        worker_command: list[str],
    ) -> None:
        super().__init__(settings, engine, settle=settle)
        self.worker_command = worker_command
        self.environment = worker_environment(settings, environment)
        self.cancel_grace_s = settings.training_cancel_grace_s
        self._children: dict[int, subprocess.Popen[bytes]] = {}

    def cancel(self, job_id: int) -> None:
        with self._lock:
            if job_id in self._children:
                self._kill_at.setdefault(job_id, time.monotonic() + self.cancel_grace_s)
        self._wake.set()

    def close(self) -> None:
        self._stop_loop()
        with self._lock:
            children = dict(self._children)
            self._children.clear()
        for child in children.values():
            child.terminate()
        for job_id, child in children.items():
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            self.settle(job_id, "the service shut down during training", False, process_id(child.pid))

    def _own_jobs(self) -> set[int]:
        return set(self._children)

    def _reap(self) -> None:
        with self._lock:
            ended = {job_id: child for job_id, child in self._children.items() if child.poll() is not None}
            for job_id in ended:
                del self._children[job_id]
                self._kill_at.pop(job_id, None)
        for job_id, child in ended.items():
            if child.returncode != 0:
                log.warning("training worker of job %s exited with code %s", job_id, child.returncode)
            reason = f"the training worker process ended with exit code {child.returncode}"
            self.settle(job_id, reason, True, process_id(child.pid))

    def _enforce_cancellations(self) -> None:
        now = time.monotonic()
        with self._lock:
            overdue = [self._children[job_id] for job_id, at in self._kill_at.items() if at <= now]
        for child in overdue:
            child.kill()

    def _launch(self, job_id: int) -> None:
        logs = self.settings.resolved_home / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / f"training-job-{job_id}.log", "ab") as output:
            child = subprocess.Popen(
                [*self.worker_command, str(job_id)],
                env=self.environment,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        with self._lock:
            self._children[job_id] = child
        self._record_worker(job_id, process_id(child.pid))
        log.info("training job %s runs in worker process %s", job_id, child.pid)

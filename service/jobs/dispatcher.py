"""What every `JobRunner` shares: a dispatcher thread that, each poll interval, ends what finished (`_reap`), forces
overdue cancellations, settles jobs whose worker was lost, and claims queued jobs up to the limit (`_launch` each).

Subclasses say where a job runs (a worker process, a Ray task) and what their own running jobs are; the queue itself
is the database's (`service.jobs.queue`), so the limit holds across restarts and API replicas.
"""

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.engine import Engine

from service.db.engine import transaction
from service.db.models import TrainingJob
from service.jobs.queue import claim_next, orphaned_jobs
from service.settings import Settings

log = logging.getLogger("openlv.jobs")

# settle(job_id, reason, count_attempt, worker_id): record the end of a job whose worker stopped without recording it;
# with a worker_id, only when that worker still owns the job.
Settle = Callable[[int, str, bool, str | None], None]


class JobDispatcher:
    THREAD_NAME = "training-dispatcher"
    LOST_REASON = "the training worker stopped unexpectedly (killed, out of memory or crashed)"

    def __init__(self, settings: Settings, engine: Engine, *, settle: Settle) -> None:
        self.settings = settings
        self.engine = engine
        self.settle = settle
        self.limit = settings.max_concurrent_training
        self.heartbeat_timeout = timedelta(seconds=settings.training_heartbeat_timeout_s)
        self._kill_at: dict[int, float] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.recover()
        self._thread = threading.Thread(target=self._loop, name=self.THREAD_NAME, daemon=True)
        self._thread.start()

    def submit(self, job_id: int) -> None:
        self._wake.set()

    def recover(self) -> None:
        """Settle the RUNNING jobs whose worker is gone (none of this runner's own)."""
        with self._lock:
            own = self._own_jobs()
        with transaction(self.engine) as session:
            orphans = [job.id for job in orphaned_jobs(session, heartbeat_timeout=self.heartbeat_timeout, exclude=own)]
        for job_id in orphans:
            log.warning("training job %s lost its worker; settling it", job_id)
            self.settle(job_id, self.LOST_REASON, True, None)  # type: ignore[arg-type]

    def _stop_loop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._reap()
                self._enforce_cancellations()
                self.recover()
                self._dispatch()
            except Exception:
                log.exception("training dispatcher iteration failed; retrying")
            self._wake.wait(self.settings.training_poll_interval_s)
            self._wake.clear()

    def _dispatch(self) -> None:
        while not self._stop.is_set():
            with transaction(self.engine) as session:
                job_id = claim_next(session, limit=self.limit)
            if job_id is None:
                return
            self._launch(job_id)

    def _record_worker(self, job_id: int, worker_id: str) -> None:
        """Name the job's worker in its row, so only that worker's end can settle it."""
        with transaction(self.engine) as session:
            job = session.get(TrainingJob, job_id)
            if job is not None:
                job.worker_id = worker_id
                session.add(job)

    def _own_jobs(self) -> set[int]:
        """The jobs this runner runs now (called with the lock held)."""
        raise NotImplementedError

    def _reap(self) -> None:
        raise NotImplementedError

    def _enforce_cancellations(self) -> None:
        raise NotImplementedError

    def _launch(self, job_id: int) -> None:
        raise NotImplementedError

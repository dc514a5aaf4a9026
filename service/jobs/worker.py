"""What a training worker process needs from the queue: its settings from the pool and a monitor thread.

Settings come from the service: the pool passes its own `Settings` as JSON in `LV_WORKER_SETTINGS`. The monitor keeps
the job's heartbeat fresh, turns a cancellation requested in the database into the engine's cancel flag, and ends the
process when its parent (the service) is gone, so an orphan never trains on while a restarted service settles its job.
The process itself is `service.training_worker`.
"""

import os
import threading

from sqlalchemy.engine import Engine

from service.db.engine import transaction
from service.db.models import TrainingJob, utcnow
from service.settings import Settings

SETTINGS_VARIABLE = "LV_WORKER_SETTINGS"
"""The worker reads its `Settings` from this variable: the service's own settings as JSON, passed explicitly."""
HEARTBEAT_INTERVAL_S = 1.0
ORPHAN_EXIT_CODE = 70


class JobMonitor(threading.Thread):
    def __init__(self, engine: Engine, job_id: int, parent_pid: int | None) -> None:
        """`parent_pid` None: no parent to outlive (a Ray task, which Ray itself ends with its owner)."""
        super().__init__(name=f"job-{job_id}-monitor", daemon=True)
        self.engine = engine
        self.job_id = job_id
        self.parent_pid = parent_pid
        self.cancelled = threading.Event()
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(HEARTBEAT_INTERVAL_S):
            if self.parent_pid is not None and os.getppid() != self.parent_pid:
                os._exit(ORPHAN_EXIT_CODE)
            with transaction(self.engine) as session:
                job = session.get(TrainingJob, self.job_id)
                if job is None or job.cancel_requested:
                    self.cancelled.set()
                if job is not None:
                    job.heartbeat_at = utcnow()
                    session.add(job)


def worker_settings() -> Settings:
    """The settings the pool passed to this worker process (never re-read from `LV_*` variables)."""
    return Settings.model_validate_json(os.environ[SETTINGS_VARIABLE])

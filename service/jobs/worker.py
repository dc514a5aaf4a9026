"""`python -m service.jobs.worker JOB_ID`: run one claimed training job in its own process.

Settings come from the service: the pool passes its own `Settings` as JSON in `LV_WORKER_SETTINGS`. A monitor thread keeps the job's heartbeat
fresh, turns a cancellation requested in the database into the engine's cancel flag, and ends the process when its
parent (the service) is gone, so an orphan never trains on while a restarted service settles its job.
"""

import logging
import os
import sys
import threading

from sqlalchemy.engine import Engine

from service.db.engine import build_engine, transaction
from service.db.models import TrainingJob, utcnow
from service.settings import Settings
from service.storage import build_store

SETTINGS_VARIABLE = "LV_WORKER_SETTINGS"
"""The worker reads its `Settings` from this variable: the service's own settings as JSON, passed explicitly."""
HEARTBEAT_INTERVAL_S = 1.0
ORPHAN_EXIT_CODE = 70


class JobMonitor(threading.Thread):
    def __init__(self, engine: Engine, job_id: int, parent_pid: int) -> None:
        super().__init__(name=f"job-{job_id}-monitor", daemon=True)
        self.engine = engine
        self.job_id = job_id
        self.parent_pid = parent_pid
        self.cancelled = threading.Event()
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(HEARTBEAT_INTERVAL_S):
            if os.getppid() != self.parent_pid:
                os._exit(ORPHAN_EXIT_CODE)
            with transaction(self.engine) as session:
                job = session.get(TrainingJob, self.job_id)
                if job is None or job.cancel_requested:
                    self.cancelled.set()
                if job is not None:
                    job.heartbeat_at = utcnow()
                    session.add(job)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].isdigit():
        print("usage: python -m service.jobs.worker JOB_ID", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("openlv").setLevel(logging.INFO)
    from service.domain.training_execution import run_training_job

    job_id = int(argv[0])
    settings = Settings.model_validate_json(os.environ[SETTINGS_VARIABLE])
    engine = build_engine(settings.resolved_database_url)
    monitor = JobMonitor(engine, job_id, os.getppid())
    monitor.start()
    try:
        run_training_job(engine, build_store(settings), settings, job_id=job_id, cancelled=monitor.cancelled.is_set)
    finally:
        monitor.stopped.set()
        monitor.join()
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

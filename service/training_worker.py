"""`python -m service.training_worker JOB_ID`: run one claimed training job in its own process.

The pool starts it with the service's `Settings` as JSON in `LV_WORKER_SETTINGS`. A `JobMonitor` keeps the job's
heartbeat fresh, turns a cancellation requested in the database into the engine's cancel flag, and ends the process
when its parent (the service) is gone; the run itself is the domain's (`training_execution.run_training_job`).
"""

import logging
import os
import sys

from service.db.engine import build_engine
from service.jobs.worker import JobMonitor, worker_settings
from service.settings import Settings
from service.storage import build_store


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].isdigit():
        print("usage: python -m service.training_worker JOB_ID", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("openlv").setLevel(logging.INFO)
    run_claimed_job(worker_settings(), int(argv[0]), parent_pid=os.getppid())
    return 0


def run_claimed_job(settings: Settings, job_id: int, *, parent_pid: int | None) -> None:
    """Run one claimed job with a heartbeat monitor (see `JobMonitor` for `parent_pid`); a Ray task calls this too."""
    from service.domain.training_execution import run_training_job

    engine = build_engine(settings.resolved_database_url)
    monitor = JobMonitor(engine, job_id, parent_pid)
    monitor.start()
    try:
        run_training_job(engine, build_store(settings), settings, job_id=job_id, cancelled=monitor.cancelled.is_set)
    finally:
        monitor.stopped.set()
        monitor.join()
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

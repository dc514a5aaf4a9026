"""Training progress written to the job row (phase, percent, message, heartbeat) and the training log.

The engine calls the writer with every progress event; rows are written at most once a second, and at every phase
change, so a fast training loop does not turn into a stream of database writes.
"""

import time

from sqlalchemy.engine import Engine

from service.db.engine import transaction
from service.db.models import TrainingJob, utcnow
from service.domain.training_jobs import append_log
from service.engine.training.progress import Progress

WRITE_INTERVAL_S = 1.0


class ProgressWriter:
    def __init__(self, engine: Engine, *, job_id: int) -> None:
        self.engine = engine
        self.job_id = job_id
        self._phase = ""
        self._last_write = 0.0

    def __call__(self, progress: Progress) -> None:
        phase_changed = progress.phase != self._phase
        if not phase_changed and time.monotonic() - self._last_write < WRITE_INTERVAL_S:
            return
        self._phase, self._last_write = progress.phase, time.monotonic()
        with transaction(self.engine) as session:
            job = session.get(TrainingJob, self.job_id)
            if job is None:
                return
            job.phase, job.percent, job.message, job.heartbeat_at = (
                progress.phase,
                progress.percent,
                progress.message[:2000],
                utcnow(),
            )
            session.add(job)
            if phase_changed:
                append_log(session, job_id=self.job_id, message=f"{progress.phase}: {progress.message}")

    def note(self, message: str) -> None:
        """A log line (and the job's current message) outside the engine's progress events."""
        with transaction(self.engine) as session:
            job = session.get(TrainingJob, self.job_id)
            if job is None:
                return
            job.message, job.heartbeat_at = message, utcnow()
            session.add(job)
            append_log(session, job_id=self.job_id, message=message)

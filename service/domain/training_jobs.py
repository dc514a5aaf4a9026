"""The training job's rules as users see them: queueing a job, its log, its end and a requeue after an interruption.

The queue's mechanics (claiming, counting, finding orphans) are `service.jobs.queue`'s; this module writes what a job's
row and log say, always inside the caller's transaction.
"""

from sqlmodel import Session, col, select

from service.db.models import TrainingJob, TrainingLogLine, utcnow
from service.jobs.queue import JobState

LOG_LINE_LIMIT = 2000


def enqueue_job(session: Session, *, model_id: int) -> TrainingJob:
    job = TrainingJob(model_id=model_id, state=JobState.QUEUED, message="Waiting for a free training slot.")
    session.add(job)
    session.flush()
    append_log(session, job_id=job.id, message="Job queued.")  # type: ignore[arg-type]
    return job


def append_log(session: Session, *, job_id: int, message: str) -> None:
    session.add(TrainingLogLine(job_id=job_id, message=message[:LOG_LINE_LIMIT]))


def log_lines(session: Session, *, job_id: int, after_id: int = 0, limit: int = 1000) -> list[TrainingLogLine]:
    query = (
        select(TrainingLogLine)
        .where(TrainingLogLine.job_id == job_id, col(TrainingLogLine.id) > after_id)
        .order_by(col(TrainingLogLine.id))
        .limit(limit)
    )
    return list(session.exec(query))


def finish_job(session: Session, *, job_id: int, state: str, message: str) -> None:
    """Record a job's final state (in the caller's transaction, next to the model's new status)."""
    job = session.get(TrainingJob, job_id)
    if job is None:
        return
    job.state, job.message, job.finished_at = state, message[:LOG_LINE_LIMIT], utcnow()
    if state == JobState.SUCCEEDED:
        job.phase, job.percent = "done", 100.0
    session.add(job)
    append_log(session, job_id=job_id, message=message)


def requeue(session: Session, *, job: TrainingJob, message: str, count_attempt: bool) -> None:
    """Put an interrupted RUNNING job back in the queue; a shutdown does not use up one of its attempts."""
    job.state, job.message, job.worker_id, job.phase, job.percent = JobState.QUEUED, message, None, "queued", 0.0
    if not count_attempt:
        job.attempts = max(job.attempts - 1, 0)
    session.add(job)
    append_log(session, job_id=job.id, message=message)  # type: ignore[arg-type]

"""The durable training queue: `TrainingJob` rows move QUEUED -> RUNNING -> SUCCEEDED | FAILED | CANCELLED.

Rows are the truth; whoever runs jobs (the embedded worker pool today, a Ray cluster later) claims them here, so a crash
of any process loses nothing: a RUNNING row whose worker is gone is found by `orphaned_jobs` and settled on the next
start.
"""

import os
import socket
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from service.db.models import TrainingJob, TrainingLogLine, utcnow

LOG_LINE_LIMIT = 2000


class JobState:
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


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


def running_count(session: Session) -> int:
    return len(session.exec(select(TrainingJob.id).where(TrainingJob.state == JobState.RUNNING)).all())


def next_queued(session: Session) -> TrainingJob | None:
    query = select(TrainingJob).where(TrainingJob.state == JobState.QUEUED).order_by(col(TrainingJob.id)).limit(1)
    return session.exec(query).first()


def claim(session: Session, *, job_id: int) -> bool:
    """Move one job QUEUED -> RUNNING; False when someone else claimed or removed it first."""
    now = utcnow()
    result = session.execute(
        update(TrainingJob)
        .where(col(TrainingJob.id) == job_id, col(TrainingJob.state) == JobState.QUEUED)
        .values(
            state=JobState.RUNNING,
            attempts=TrainingJob.attempts + 1,  # type: ignore[operator]
            started_at=now,
            heartbeat_at=now,
            phase="starting",
            percent=0.0,
            message="Starting a training worker.",
            worker_id=None,
        )
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def process_id(pid: int) -> str:
    """How a worker process is named in `TrainingJob.worker_id`: host and pid, so liveness can be checked later."""
    return f"{socket.gethostname()}:{pid}"


def _process_alive_here(worker_id: str) -> bool | None:
    """True/False for a process on this host; None when the worker runs elsewhere (only heartbeats can tell)."""
    host, _, pid = worker_id.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def orphaned_jobs(session: Session, *, heartbeat_timeout: timedelta, exclude: set[int]) -> list[TrainingJob]:
    """RUNNING jobs whose worker is gone: its process on this host has ended, or its heartbeat is too old."""
    stale_before: datetime = utcnow() - heartbeat_timeout
    orphans = []
    for job in session.exec(select(TrainingJob).where(TrainingJob.state == JobState.RUNNING)):
        if job.id in exclude:
            continue
        alive = _process_alive_here(job.worker_id) if job.worker_id else None
        heartbeat = job.heartbeat_at or job.started_at or job.created_at
        if heartbeat.tzinfo is None:
            heartbeat = heartbeat.replace(tzinfo=stale_before.tzinfo)
        if alive is False or heartbeat < stale_before:
            orphans.append(job)
    return orphans


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

"""The durable training queue's mechanics: `TrainingJob` rows move QUEUED -> RUNNING -> SUCCEEDED | FAILED | CANCELLED.

Rows are the truth; whoever runs jobs (the embedded worker pool today, a Ray cluster later) claims them here, so a crash
of any process loses nothing: a RUNNING row whose worker is gone is found by `orphaned_jobs` and settled on the next
start. What a job's row says to users (queueing, its log, its end, a requeue) is the domain's
(`service.domain.training_jobs`); this module never imports the domain.
"""

import os
import socket
from datetime import datetime, timedelta

from sqlalchemy import func, text, update
from sqlmodel import Session, col, select

from service.db.models import TrainingJob, utcnow


class JobState:
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


def running_count(session: Session) -> int:
    return len(session.exec(select(TrainingJob.id).where(TrainingJob.state == JobState.RUNNING)).all())


CLAIM_LOCK = 0x6F706C76  # "oplv": the PostgreSQL advisory lock that makes count-then-claim one step across replicas


def next_queued(session: Session, *, exclude: frozenset[int] = frozenset()) -> TrainingJob | None:
    """The oldest QUEUED job not in `exclude`; on PostgreSQL its row is locked (`FOR UPDATE SKIP LOCKED`), so replicas
    that look at once get different jobs."""
    query = (
        select(TrainingJob)
        .where(TrainingJob.state == JobState.QUEUED, col(TrainingJob.id).not_in(exclude))
        .order_by(col(TrainingJob.id))
        .limit(1)
    )
    if _is_postgresql(session):
        query = query.with_for_update(skip_locked=True)
    return session.exec(query).first()


def claim_next(session: Session, *, limit: int) -> int | None:
    """Claim the oldest QUEUED job when fewer than `limit` run; its id, or None (at the limit, or nothing queued).

    Safe with several API replicas: on PostgreSQL a transaction-scoped advisory lock serialises the count and the claim
    of every replica (the row lock alone would let two replicas each claim a different job past the limit); on SQLite
    the claim's UPDATE re-checks the count itself, under SQLite's single writer lock.
    """
    if _is_postgresql(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLAIM_LOCK})
    taken: frozenset[int] = frozenset()
    while running_count(session) < limit:
        job = next_queued(session, exclude=taken)
        if job is None or job.id is None:
            return None
        if claim(session, job_id=job.id, limit=limit):
            return job.id
        taken |= {job.id}  # another replica claimed it first: try the next one
    return None


def claim(session: Session, *, job_id: int, limit: int | None = None) -> bool:
    """Move one job QUEUED -> RUNNING; False when someone else claimed or removed it first, or (with `limit`) when
    `limit` jobs already run."""
    now = utcnow()
    conditions = [col(TrainingJob.id) == job_id, col(TrainingJob.state) == JobState.QUEUED]
    if limit is not None:
        running = select(func.count()).select_from(TrainingJob).where(col(TrainingJob.state) == JobState.RUNNING)
        conditions.append(running.scalar_subquery() < limit)
    result = session.execute(
        update(TrainingJob)
        .where(*conditions)
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


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


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

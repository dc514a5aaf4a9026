"""Builds the service's `JobRunner`: today the embedded worker pool, wired to the domain's settling of lost jobs."""

import os

from sqlalchemy.engine import Engine

from service.domain.training_outcomes import settle_interrupted
from service.jobs.pool import EmbeddedWorkerPool
from service.jobs.runner import JobRunner
from service.settings import Settings
from service.storage import ObjectStore


def build_job_runner(settings: Settings, engine: Engine, store: ObjectStore) -> JobRunner:
    def settle(job_id: int, reason: str, count_attempt: bool, worker_id: str | None) -> None:
        settle_interrupted(
            engine,
            store,
            job_id=job_id,
            reason=reason,
            count_attempt=count_attempt,
            max_attempts=settings.training_max_attempts,
            worker_id=worker_id,
        )

    return EmbeddedWorkerPool(settings, engine, settle=settle, environment=dict(os.environ))

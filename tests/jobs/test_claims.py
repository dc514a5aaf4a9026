"""Job claims across API replicas: however many replicas claim at once, no more than the limit run; the Ray
executor refuses state that only one machine has; workers get the settings they can read back."""

import threading
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlmodel import select

from service.db.engine import build_engine, transaction
from service.db.models import Model, TrainingJob
from service.domain.projects import create_project
from service.domain.training_jobs import enqueue_job
from service.jobs.queue import JobState, claim_next
from service.migrations.runner import upgrade_to_head
from service.settings import Settings
from tests.conftest import BACKENDS
from tests.helpers.databases import database_url

REPLICAS = 6


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("limit", [1, 2])
def test_replicas_claiming_at_once_never_exceed_the_limit(backend: str, limit: int, tmp_path: Path) -> None:
    with database_url(backend, tmp_path) as url:
        engine = build_engine(url)
        upgrade_to_head(engine)
        with transaction(engine) as session:
            project = create_project(session, name="claims")
            for version in range(1, REPLICAS + 1):
                model = Model(
                    project_id=project.id,
                    version=version,
                    status="TRAINING",
                    algorithm="draem",
                    artifacts_prefix=f"m{version}/",
                )
                session.add(model)
                session.flush()
                enqueue_job(session, model_id=model.id)  # type: ignore[arg-type]
        start = threading.Barrier(REPLICAS)
        claimed: list[int | None] = []

        def replica() -> None:
            start.wait()
            with transaction(engine) as session:
                claimed.append(claim_next(session, limit=limit))

        threads = [threading.Thread(target=replica) for _ in range(REPLICAS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with transaction(engine) as session:
            running = session.exec(select(TrainingJob).where(TrainingJob.state == JobState.RUNNING)).all()
        engine.dispose()
    assert len(running) == limit
    assert sorted(job_id for job_id in claimed if job_id is not None) == sorted(job.id for job in running)


def test_the_ray_executor_refuses_sqlite_and_local_storage(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="LV_EXECUTOR=ray needs a database .* PostgreSQL"):
        Settings(home=tmp_path, executor="ray", storage_backend="s3")
    with pytest.raises(ValidationError, match="LV_EXECUTOR=ray needs storage .* LV_STORAGE_BACKEND=s3"):
        Settings(home=tmp_path, executor="ray", database_url="postgresql+psycopg://db/openlv")
    assert Settings(home=tmp_path, executor="ray", database_url="postgresql+psycopg://db/x", storage_backend="s3")


def test_worker_settings_travel_without_the_admin_key_pair(tmp_path: Path) -> None:
    seeded = Settings(home=tmp_path, admin_access_key_id="LVAK" + "A" * 16, admin_secret_access_key="s" * 40)
    worker = Settings.model_validate_json(seeded.worker_json())
    assert worker.admin_key_pair is None and worker.home == seeded.home

"""How training runs end when they do not end TRAINED: failed, cancelled (deleted), or interrupted without a word.

An interrupted run (its worker was killed, ran out of memory, or the service stopped) is queued again until it has
used `max_attempts`; then the model is TRAINING_FAILED with a message saying so. A model being deleted is removed
instead, whatever the reason its job ended.
"""

from sqlalchemy.engine import Engine

from service.db.engine import transaction
from service.db.models import Model, TrainingJob
from service.domain.model_status import ModelStatus
from service.domain.training_jobs import append_log, finish_job, requeue
from service.domain.training_runs import purge_model_objects, remove_model_rows
from service.jobs.queue import JobState
from service.storage import ObjectStore


def fail_job(engine: Engine, *, job_id: int, message: str, details: str = "") -> None:
    with transaction(engine) as session:
        job = session.get(TrainingJob, job_id)
        model = session.get(Model, job.model_id) if job else None
        if job is None or model is None:
            return
        if details:
            append_log(session, job_id=job_id, message=details[-2000:])
        finish_job(session, job_id=job_id, state=JobState.FAILED, message=message)
        if model.status != ModelStatus.DELETING:
            model.status, model.status_message = ModelStatus.TRAINING_FAILED, message[:2000]
            session.add(model)


def _remove(engine: Engine, store: ObjectStore, model_id: int) -> None:
    with transaction(engine) as session:
        model = session.get(Model, model_id)
        if model is None:
            return
        remove_model_rows(session, model=model)
    purge_model_objects(store, model=model)


def settle_cancelled(engine: Engine, store: ObjectStore, *, job_id: int) -> None:
    """A run stopped on request: its model is removed when being deleted, else marked failed as cancelled."""
    with transaction(engine) as session:
        job = session.get(TrainingJob, job_id)
        model = session.get(Model, job.model_id) if job else None
        if job is None or model is None:
            return
        deleting = model.status == ModelStatus.DELETING
        if not deleting:
            finish_job(session, job_id=job_id, state=JobState.CANCELLED, message="Training was cancelled.")
            model.status, model.status_message = (
                ModelStatus.TRAINING_FAILED,
                "Training was cancelled; call CreateModel to train.",
            )
            session.add(model)
    if deleting:
        _remove(engine, store, model.id)  # type: ignore[arg-type]


def settle_interrupted(
    engine: Engine,
    store: ObjectStore,
    *,
    job_id: int,
    reason: str,
    count_attempt: bool,
    max_attempts: int,
    worker_id: str | None = None,
) -> None:
    """A RUNNING job whose worker ended without recording an outcome: requeue it, fail it, or finish its deletion.

    With `worker_id`, only the run of that worker is settled: a worker that ends late never touches a later run.
    """
    with transaction(engine) as session:
        job = session.get(TrainingJob, job_id)
        model = session.get(Model, job.model_id) if job else None
        if job is None or model is None or job.state != JobState.RUNNING:
            return
        if worker_id is not None and job.worker_id not in (None, worker_id):
            return
        deleting = model.status == ModelStatus.DELETING
        if deleting:
            finish_job(session, job_id=job_id, state=JobState.CANCELLED, message=f"{reason}; the model is deleted.")
        elif not count_attempt or job.attempts < max_attempts:
            requeue(session, job=job, message=f"{reason}; training will start again.", count_attempt=count_attempt)
            model.status_message = "Training is queued to start again after an interruption."
            session.add(model)
        else:
            message = (
                f"Training stopped: {reason}. It was tried {job.attempts} time(s). Check the machine's free memory "
                "and the service log, then call CreateModel again."
            )
            finish_job(session, job_id=job_id, state=JobState.FAILED, message=message)
            model.status, model.status_message = ModelStatus.TRAINING_FAILED, message[:2000]
            session.add(model)
    if deleting:
        _remove(engine, store, model.id)  # type: ignore[arg-type]

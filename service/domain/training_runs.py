"""Model versions: create (validate data, pick the algorithm, queue training), describe, list, delete.

Training itself runs elsewhere (`service.domain.training_execution`, driven by a `service.jobs.JobRunner`); this module
writes rows and, through the caller's unit of work, submits a created job once it is committed (`model_deletion`
cancels one after a delete).
"""

import re
import uuid
from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from service.db.engine import MAX_INTEGER, UnitOfWork
from service.db.models import Model, PackagingJob, ThresholdChange, TrainingJob, TrainingLogLine
from service.domain import buckets
from service.domain.algorithms import TrainingChoice
from service.domain.evaluation import output_objects
from service.domain.model_status import DELETABLE, ModelStatus, require_status
from service.domain.projects import get_project
from service.domain.training_data import check_training_data
from service.domain.training_jobs import enqueue_job
from service.errors import ResourceNotFoundException, ValidationException
from service.jobs.queue import JobState
from service.jobs.runner import JobRunner
from service.storage import ObjectAccessError, ObjectStore, StorageKeyError, validate_key

QUEUED_MESSAGE = "The model is being trained: queued until a training slot is free."
"""Lookout for Vision said "The model is being trained." for the whole run; openlv adds where training is."""
ARTIFACTS_FOLDER = "artifacts/"
"""Where training puts the engine's saved-model folder under `Model.artifacts_prefix`, and hosting reads it."""


@dataclass(frozen=True)
class OutputLocation:
    bucket: str
    prefix: str


_VERSION = re.compile(r"[1-9][0-9]{0,9}", re.ASCII)


def parse_version(version: str) -> int:
    """A positive whole number in ASCII digits that fits the database's integers; ValidationException otherwise."""
    if not _VERSION.fullmatch(version) or int(version) > MAX_INTEGER:
        raise ValidationException(f"Model version {version!r} is not valid: use a positive whole number such as 1.")
    return int(version)


def get_model(session: Session, *, project_name: str, version: str) -> Model:
    """The model `version` of project `project_name`; `LATEST` names the highest version."""
    project = get_project(session, name=project_name)
    query = select(Model).where(Model.project_id == project.id)
    if version == "LATEST":
        model = session.exec(query.order_by(col(Model.version).desc()).limit(1)).first()
    else:
        model = session.exec(query.where(Model.version == parse_version(version))).first()
    if model is None:
        raise ResourceNotFoundException(
            f"Model {version} of project {project_name} does not exist.",
            resource_id=f"{project_name}/{version}",
            resource_type="MODEL",
        )
    return model


def get_job(session: Session, *, model: Model) -> TrainingJob | None:
    return session.exec(select(TrainingJob).where(TrainingJob.model_id == model.id)).first()


def check_output_location(store: ObjectStore, output: OutputLocation, *, project: str, version: int) -> None:
    """Refuse up front an OutputConfig the service could not write its evaluation objects to: a bucket out of reach
    (local storage, the operator's allow-list), a missing bucket or one S3 refuses, a prefix that is no valid key."""
    target = buckets.store_for(store, output.bucket, what="OutputConfig S3Location")
    objects = output_objects(bucket=output.bucket, prefix=output.prefix, project_name=project, version=version)
    try:
        next(iter(target.list(objects.manifest_key)), None)
    except ObjectAccessError as exc:
        raise buckets.refusal(exc, what="OutputConfig S3Location", uri=exc.uri) from None


def artifacts_prefix(output: OutputLocation, *, service_bucket: str, project: str, version: int) -> str:
    """Where a model's artefacts and evaluation go: under the OutputConfig prefix when it names the service's bucket
    (the only bucket this service writes to), else under `models/`. A random part keeps a re-created project's model
    from meeting a deleted one's objects."""
    root = output.prefix.strip("/") if output.bucket == service_bucket and output.prefix.strip("/") else "models"
    try:
        return validate_key(f"{root}/{project}/{version}-{uuid.uuid4().hex[:8]}/")
    except StorageKeyError as exc:
        raise ValidationException(f"Invalid OutputConfig: {exc}.") from None


def create_model(
    work: UnitOfWork,
    jobs: JobRunner,
    *,
    project_name: str,
    choice: TrainingChoice,
    output: OutputLocation,
    store: ObjectStore,
    description: str = "",
    kms_key_id: str | None = None,
    runtime: str | None = None,
) -> tuple[Model, TrainingJob]:
    """Check the project's datasets, create the next model version in TRAINING and queue its training job (submitted
    to `jobs` once the unit of work commits)."""
    session = work.session
    project = get_project(session, name=project_name)
    check_training_data(session, project=project)
    latest = session.exec(select(func.max(Model.version)).where(Model.project_id == project.id)).one()
    version = (latest or 0) + 1
    check_output_location(store, output, project=project.name, version=version)
    model = Model(
        project_id=project.id,  # type: ignore[arg-type]
        version=version,
        status=ModelStatus.TRAINING,
        status_message=QUEUED_MESSAGE,
        description=description,
        algorithm=choice.algorithm,
        hyperparameters=choice.hyperparameters,
        backbone_weights=choice.backbone_weights,
        image_size=choice.image_size,
        output_bucket=output.bucket,
        output_prefix=output.prefix,
        kms_key_id=kms_key_id,
        runtime=runtime,
        artifacts_prefix=artifacts_prefix(output, service_bucket=store.bucket, project=project.name, version=version),
    )
    session.add(model)
    session.flush()
    job = enqueue_job(session, model_id=model.id)  # type: ignore[arg-type]
    job_id = job.id
    assert job_id is not None
    work.after_commit(lambda: jobs.submit(job_id))
    return model, job


def status_messages(session: Session, models: list[Model]) -> list[str]:
    """The models' StatusMessages, in order; a model whose training job runs says its phase and how far it got."""
    training = [model.id for model in models if model.status == ModelStatus.TRAINING]
    running = {}
    if training:
        query = select(TrainingJob).where(
            col(TrainingJob.model_id).in_(training), TrainingJob.state == JobState.RUNNING
        )
        running = {job.model_id: job for job in session.exec(query)}
    return [
        model.status_message if model.id not in running else training_message(running[model.id]) for model in models
    ]


def training_message(job: TrainingJob) -> str:
    detail = f": {job.message.rstrip('.')}" if job.message else ""
    return f"The model is being trained ({job.phase}, {job.percent:.0f}% done){detail}."[:2000]


def list_models(session: Session, *, project_name: str, after_version: int, limit: int) -> list[Model]:
    """Versions in descending order, starting below `after_version` (0: from the newest); limit + 1 rows at most."""
    project = get_project(session, name=project_name)
    query = select(Model).where(Model.project_id == project.id)
    if after_version:
        query = query.where(Model.version < after_version)
    return list(session.exec(query.order_by(col(Model.version).desc()).limit(limit + 1)))


def delete_model(session: Session, *, project_name: str, version: str) -> tuple[Model, TrainingJob | None]:
    """Start deleting a model. A hosted one must be stopped first (as in AWS). A queued or finished one goes at once
    (the caller then purges its objects); a running training job is asked to stop and the model stays DELETING until
    the job runner reports the job ended. Returns the model and the job whose cancellation the runner must request."""
    model = get_model(session, project_name=project_name, version=version)
    require_status(model, DELETABLE, project_name=project_name, hint="stop it with StopModel first.")
    job = get_job(session, model=model)
    model.status, model.status_message = ModelStatus.DELETING, "The model is being deleted."
    session.add(model)
    if job is not None and job.state == JobState.RUNNING:
        job.cancel_requested = True
        session.add(job)
        session.flush()
        return model, job
    session.flush()
    return model, None


def remove_model_rows(session: Session, *, model: Model) -> None:
    """Delete a model and everything that hangs off it in the database."""
    job = get_job(session, model=model)
    if job is not None:
        for line in session.exec(select(TrainingLogLine).where(TrainingLogLine.job_id == job.id)):
            session.delete(line)
        session.flush()
        session.delete(job)
    for change in session.exec(select(ThresholdChange).where(ThresholdChange.model_id == model.id)):
        session.delete(change)
    for packaging_job in session.exec(select(PackagingJob).where(PackagingJob.model_id == model.id)):
        session.delete(packaging_job)
    session.flush()
    session.delete(model)
    session.flush()


def purge_model_objects(store: ObjectStore, *, model: Model) -> None:
    """Remove the service's objects of a model (under its artifacts prefix); the caller's EvaluationManifest and
    EvaluationResult at its OutputConfig location stay, as Lookout for Vision left them."""
    for key in list(store.list(model.artifacts_prefix)):
        store.delete(key)

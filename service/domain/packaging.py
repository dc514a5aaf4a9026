"""Model packaging jobs: package a trained model version into an edge bundle written to the S3OutputLocation (the
service's bucket or, with the S3 backend, any bucket its credentials reach; `service.domain.buckets`).

`start_job` checks the request and writes a CREATED row; the caller commits, then runs `run_job` in the background,
which moves the row to RUNNING, writes the bundle (one atomic put, so nothing half-written ever appears) and settles
it SUCCEEDED or FAILED. A job whose process died keeps no RUNNING row forever: once its row has not changed for
`STALE_AFTER`, reading it settles it FAILED.
"""

import logging
import threading
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from service.db.engine import UnitOfWork, transaction
from service.db.models import Model, PackagingJob, Project, utcnow
from service.domain import buckets
from service.domain.model_status import PACKAGEABLE, require_status
from service.domain.packaging_bundle import BundleError, BundleSpec, build_bundle, is_bundled
from service.domain.packaging_targets import EdgeTarget, parse_target
from service.domain.projects import get_project
from service.domain.training_runs import ARTIFACTS_FOLDER, get_model
from service.errors import ConflictException, ResourceNotFoundException, ValidationException
from service.storage import ObjectAccessError, ObjectNotFoundError, ObjectStore, StorageKeyError, validate_key

log = logging.getLogger("openlv.packaging")

CREATED, RUNNING, SUCCEEDED, FAILED = "CREATED", "RUNNING", "SUCCEEDED", "FAILED"
STALE_AFTER = timedelta(minutes=10)
"""Packaging takes seconds; a job unchanged this long lost its process (a restart) and is settled FAILED."""


def bundle_key(prefix: str, component_name: str, component_version: str) -> str:
    """`<prefix>/<ComponentName>-<ComponentVersion>.zip`: one bundle per component version."""
    name = f"{component_name}-{component_version}.zip"
    folder = prefix.strip("/")
    try:
        return validate_key(f"{folder}/{name}" if folder else name)
    except StorageKeyError as exc:
        raise ValidationException(f"Invalid S3 output location: {exc}.") from None


def edge_target(greengrass: dict[str, Any]) -> EdgeTarget:
    return parse_target(
        device=greengrass.get("TargetDevice"),
        platform=greengrass.get("TargetPlatform"),
        compiler_options=greengrass.get("CompilerOptions"),
    )


def start_job(
    work: UnitOfWork,
    *,
    engine: Engine,
    store: ObjectStore,
    project_name: str,
    model_version: str,
    greengrass: dict[str, Any],
    job_name: str | None = None,
    description: str = "",
) -> PackagingJob:
    """Check the request (`greengrass`: the GreengrassConfiguration wire shape), record a CREATED job and return it;
    once the unit of work commits, `run_job` packages it on a thread of its own (a restart settles a job it left)."""
    session = work.session
    output = greengrass["S3OutputLocation"]
    output_store = buckets.store_for(store, output["Bucket"], what="S3OutputLocation")
    edge_target(greengrass)
    version = "LATEST" if model_version.upper() == "LATEST" else model_version
    model = get_model(session, project_name=project_name, version=version)
    require_status(
        model, PACKAGEABLE, project_name=project_name, hint="only a TRAINED or HOSTED model can be packaged."
    )
    job_name = job_name or f"{project_name.replace('_', '-')[:40]}-{model.version}-{uuid.uuid4().hex[:12]}"
    _check_job_name_free(session, project_id=model.project_id, project_name=project_name, job_name=job_name)
    component_name = greengrass["ComponentName"]
    component_version = greengrass.get("ComponentVersion") or f"{model.version}.0.0"
    key = bundle_key(output.get("Prefix") or "", component_name, component_version)
    _check_component_free(session, output_store, name=component_name, version=component_version, key=key)
    job = PackagingJob(
        project_id=model.project_id,
        model_id=model.id,  # type: ignore[arg-type]
        model_version=model.version,
        job_name=job_name,
        description=description,
        configuration={**greengrass, "ComponentVersion": component_version},
        component_name=component_name,
        component_version=component_version,
        output_key=key,
        status=CREATED,
        status_message="The packaging job is queued.",
    )
    session.add(job)
    try:
        session.flush()
    except IntegrityError:
        raise _name_taken(project_name, job_name) from None
    job_id = job.id
    assert job_id is not None
    work.after_commit(
        lambda: threading.Thread(
            target=run_job, args=(engine, store, job_id), name=f"packaging-{job_id}", daemon=True
        ).start()
    )
    return job


def _name_taken(project_name: str, job_name: str) -> ConflictException:
    return ConflictException(
        f"Project {project_name} already has a model packaging job named {job_name}.",
        resource_id=job_name,
        resource_type="MODEL_PACKAGE_JOB",
    )


def _check_job_name_free(session: Session, *, project_id: int, project_name: str, job_name: str) -> None:
    query = select(PackagingJob.id).where(PackagingJob.project_id == project_id, PackagingJob.job_name == job_name)
    if session.exec(query).first() is not None:
        raise _name_taken(project_name, job_name)


def _check_component_free(session: Session, store: ObjectStore, *, name: str, version: str, key: str) -> None:
    """A component version is made once (as in Greengrass): not by another live job, not over an existing object."""
    query = select(PackagingJob.job_name).where(
        PackagingJob.component_name == name, PackagingJob.component_version == version, PackagingJob.status != FAILED
    )
    other = session.exec(query).first()
    if other is not None:
        raise ConflictException(
            f"Component {name} version {version} is already made by packaging job {other}; choose another "
            "ComponentVersion.",
            resource_id=f"{name}:{version}",
            resource_type="MODEL_PACKAGE_JOB",
        )
    try:
        taken = store.exists(key)
    except ObjectAccessError as exc:
        raise buckets.refusal(exc, what="S3OutputLocation", uri=exc.uri) from None
    if taken:
        raise ConflictException(
            f"An object already exists at s3://{store.bucket}/{key}; choose another ComponentVersion or Prefix.",
            resource_id=key,
            resource_type="MODEL_PACKAGE_JOB",
        )


def get_job(session: Session, *, project_name: str, job_name: str) -> PackagingJob:
    project = get_project(session, name=project_name)
    query = select(PackagingJob).where(PackagingJob.project_id == project.id, PackagingJob.job_name == job_name)
    job = session.exec(query).first()
    if job is None:
        raise ResourceNotFoundException(
            f"Project {project_name} has no model packaging job named {job_name}.",
            resource_id=job_name,
            resource_type="MODEL_PACKAGE_JOB",
        )
    _settle_if_stale(session, job)
    return job


def list_jobs(session: Session, *, project_name: str, below_id: int, limit: int) -> list[PackagingJob]:
    """Newest first, starting below job id `below_id` (0: from the newest); limit + 1 rows at most."""
    project = get_project(session, name=project_name)
    query = select(PackagingJob).where(PackagingJob.project_id == project.id)
    if below_id:
        query = query.where(col(PackagingJob.id) < below_id)
    jobs = list(session.exec(query.order_by(col(PackagingJob.id).desc()).limit(limit + 1)))
    for job in jobs:
        _settle_if_stale(session, job)
    return jobs


def _settle_if_stale(session: Session, job: PackagingJob) -> None:
    if job.status in (CREATED, RUNNING) and utcnow() - job.updated_at > STALE_AFTER:
        _set_status(job, FAILED, "Packaging was interrupted (the service stopped); start a new packaging job.")
        session.add(job)
        session.flush()


def settle_interrupted_jobs(engine: Engine) -> int:
    """On start-up: jobs left CREATED or RUNNING by a process that stopped are FAILED at once; how many."""
    with transaction(engine) as session:
        jobs = list(session.exec(select(PackagingJob).where(col(PackagingJob.status).in_((CREATED, RUNNING)))))
        for job in jobs:
            _set_status(job, FAILED, "Packaging was interrupted (the service stopped); start a new packaging job.")
            session.add(job)
        return len(jobs)


def _set_status(job: PackagingJob, status: str, message: str) -> None:
    job.status, job.status_message, job.updated_at = status, message, utcnow()


def run_job(engine: Engine, store: ObjectStore, job_id: int) -> None:
    """Package one CREATED job; the outcome is in its row (a job already taken or deleted is left alone)."""
    with transaction(engine) as session:
        job = session.get(PackagingJob, job_id)
        if job is None or job.status != CREATED:
            return
        _set_status(job, RUNNING, "Packaging the model.")
        session.add(job)
        model = session.get(Model, job.model_id)
        project = session.get(Project, job.project_id)
        assert model is not None and project is not None
        output = _output_store(store, job)
        spec = _bundle_spec(output, job, model, project)
        artifacts = model.artifacts_prefix + ARTIFACTS_FOLDER
        key = job.output_key
    try:
        names = [name.removeprefix(artifacts) for name in store.list(artifacts)]
        files = {name: store.get(artifacts + name) for name in names if is_bundled(name)}
        bundle = build_bundle(files, spec)
        if output.exists(key):
            raise BundleError(f"An object appeared at s3://{output.bucket}/{key} meanwhile; nothing was overwritten.")
        buckets.write(output, key, bundle, "application/zip", what="edge package")
    except Exception as error:
        if not isinstance(error, BundleError | ObjectNotFoundError | ValidationException | ObjectAccessError):
            log.exception("packaging job %s failed", job_id)
        _finish(engine, job_id, FAILED, _failure_message(error))
        return
    if not _finish(
        engine, job_id, SUCCEEDED, f"The edge package is at s3://{output.bucket}/{key} ({len(bundle)} bytes)."
    ):
        output.delete(key)


def _output_store(store: ObjectStore, job: PackagingJob) -> ObjectStore:
    """Where the job writes its bundle: the S3OutputLocation bucket it was started with (checked by `start_job`)."""
    return store.in_bucket(str(job.configuration["S3OutputLocation"]["Bucket"]))


def _failure_message(error: Exception) -> str:
    if isinstance(error, BundleError):
        return str(error)
    if isinstance(error, ValidationException):
        return error.message
    if isinstance(error, ObjectAccessError):
        return buckets.refusal(error, what="edge package", uri=error.uri).message
    if isinstance(error, ObjectNotFoundError):
        return "The trained model's artifacts are no longer in storage; the model may have been deleted."
    return "Packaging failed unexpectedly; see the service log."


def _finish(engine: Engine, job_id: int, status: str, message: str) -> bool:
    """Settle a RUNNING job; False when it is gone (its model was deleted meanwhile) or was settled elsewhere."""
    with transaction(engine) as session:
        job = session.get(PackagingJob, job_id)
        if job is None or job.status != RUNNING:
            return False
        _set_status(job, status, message)
        session.add(job)
        return True


def _bundle_spec(store: ObjectStore, job: PackagingJob, model: Model, project: Project) -> BundleSpec:
    greengrass = job.configuration
    return BundleSpec(
        project_name=project.name,
        model_version=model.version,
        job_name=job.job_name,
        algorithm=model.algorithm,
        image_size=model.image_size,
        image_threshold=model.image_threshold,
        component_name=job.component_name,
        component_version=job.component_version,
        component_description=str(
            greengrass.get("ComponentDescription") or f"openlv model {project.name} version {model.version}"
        ),
        tags={str(tag["Key"]): str(tag["Value"]) for tag in greengrass.get("Tags", [])},
        target=edge_target(greengrass),
        artifact_uri=f"s3://{store.bucket}/{job.output_key}",
    )

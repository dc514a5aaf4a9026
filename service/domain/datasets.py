"""Datasets: create (empty or from a Ground Truth manifest), describe, delete, and update their entries."""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from service.context import AppContext
from service.db.engine import transaction
from service.db.models import Dataset, DatasetEntry
from service.domain import dataset_state, manifest_jobs, stored_objects
from service.domain.dataset_state import get_dataset, refuse_if_busy
from service.domain.entries import EntriesRejected
from service.domain.idempotency import idempotent, replayed_response
from service.domain.manifests import numbered_lines, read_manifest_object
from service.domain.names import validate_dataset_type
from service.domain.projects import get_project
from service.errors import ConflictException, ServiceError, ValidationException
from service.storage import ObjectStore


@dataclass(frozen=True)
class ManifestSource:
    """DatasetSource.GroundTruthManifest.S3Object of CreateDataset."""

    bucket: str
    key: str
    version_id: str | None = None


@dataclass(frozen=True)
class ImageStats:
    total: int
    labeled: int
    normal: int
    anomaly: int


def create_dataset(
    session: Session, *, context: AppContext, project_name: str, dataset_type: str, source: ManifestSource | None
) -> tuple[Dataset, bytes | None]:
    """A new dataset and, with a manifest, its bytes. An empty dataset is CREATE_COMPLETE at once; one with a manifest
    is CREATE_IN_PROGRESS until the caller has run `manifest_jobs.populate_dataset` after the commit. The manifest is
    read here, so one out of reach is refused before anything is created; its lines are validated there."""
    validate_dataset_type(dataset_type)
    project = get_project(session, name=project_name)
    if session.exec(
        select(Dataset).where(Dataset.project_id == project.id, Dataset.dataset_type == dataset_type)
    ).first():
        raise _already_exists(project_name, dataset_type)
    manifest = None
    if source is not None:
        manifest = read_manifest_object(
            context.store, bucket=source.bucket, key=source.key, version_id=source.version_id
        )
    assert project.id is not None
    dataset = Dataset(
        project_id=project.id,
        dataset_type=dataset_type,
        status=dataset_state.CREATE_COMPLETE if manifest is None else dataset_state.CREATE_IN_PROGRESS,
        status_message=dataset_state.CREATED_MESSAGE if manifest is None else dataset_state.CREATING_MESSAGE,
        claimed_by=None if manifest is None else dataset_state.OWNER,
    )
    session.add(dataset)
    try:
        session.flush()
    except IntegrityError:
        raise _already_exists(project_name, dataset_type) from None
    return dataset, manifest


def _already_exists(project_name: str, dataset_type: str) -> ConflictException:
    return ConflictException(
        f"Project {project_name} already has a {dataset_type} dataset.",
        resource_id=f"{project_name}/{dataset_type}",
        resource_type="DATASET",
    )


def image_stats(session: Session, *, dataset: Dataset) -> ImageStats:
    query = (
        select(DatasetEntry.label, func.count())
        .where(DatasetEntry.dataset_id == dataset.id)
        .group_by(col(DatasetEntry.label))
    )
    counts: dict[str | None, int] = {label: count for label, count in session.exec(query)}
    normal, anomaly = counts.get("normal", 0), counts.get("anomaly", 0)
    return ImageStats(total=sum(counts.values()), labeled=normal + anomaly, normal=normal, anomaly=anomaly)


def delete_dataset(*, context: AppContext, project_name: str, dataset_type: str, client_token: str | None) -> None:
    """Delete a dataset and its entries; images no other entry uses are removed from storage after the commit."""

    def produce() -> dict[str, Any]:
        _delete_rows(session, store=context.store, project_name=project_name, dataset_type=dataset_type)
        return {}

    with transaction(context.engine) as session:
        idempotent(
            session,
            operation="DeleteDataset",
            client_token=client_token,
            parameters={"ProjectName": project_name, "DatasetType": dataset_type},
            produce=produce,
        )


def _delete_rows(session: Session, *, store: ObjectStore, project_name: str, dataset_type: str) -> None:
    """Delete the dataset's rows and release the images they used."""
    dataset = get_dataset(session, project_name=project_name, dataset_type=dataset_type)
    refuse_if_busy(dataset, project_name=project_name, action="delete it")
    used = session.exec(
        select(DatasetEntry.image_sha256, DatasetEntry.mask_sha256).where(DatasetEntry.dataset_id == dataset.id)
    ).all()
    session.execute(delete(DatasetEntry).where(col(DatasetEntry.dataset_id) == dataset.id))
    session.delete(dataset)
    stored_objects.release(session, store, (sha for pair in used for sha in pair if sha is not None))


def start_update_entries(
    *, context: AppContext, project_name: str, dataset_type: str, changes: bytes, client_token: str | None
) -> tuple[str, int | None]:
    """UpdateDatasetEntries, the part answered at once: check that Changes are JSON Lines, claim the dataset
    (UPDATE_IN_PROGRESS) and record the answer for the ClientToken. Returns the Status to answer and the id of the
    dataset whose batch the caller must apply after answering (`manifest_jobs.apply_update`); None for a replay."""
    if not numbered_lines(changes):
        raise ValidationException("Changes must hold at least one JSON line.")
    parameters = {
        "ProjectName": project_name,
        "DatasetType": dataset_type,
        "Changes": hashlib.sha256(changes).hexdigest(),
    }
    with transaction(context.engine) as session:
        replayed = _replayed_response(session, client_token=client_token, parameters=parameters)
    if replayed is not None:
        return str(replayed["Status"]), None
    dataset_id = dataset_state.claim_for_update(context.engine, project_name=project_name, dataset_type=dataset_type)
    try:
        with transaction(context.engine) as session:
            idempotent(
                session,
                operation="UpdateDatasetEntries",
                client_token=client_token,
                parameters=parameters,
                produce=lambda: {"Status": dataset_state.UPDATE_IN_PROGRESS},
            )
    except ServiceError as exc:
        dataset_state.record_failed_update(context.engine, dataset_id=dataset_id, message=exc.message)
        raise
    return dataset_state.UPDATE_IN_PROGRESS, dataset_id


def run_claimed_update(
    *, context: AppContext, project_name: str, dataset_type: str, work: Callable[[Session, Dataset], None]
) -> Dataset:
    """Claim the dataset, run `work` in one transaction and mark it UPDATE_COMPLETE; if `work` raises, nothing it did
    stays, the dataset says UPDATE_FAILED_ROLLBACK_COMPLETE with the reason, and the error propagates."""
    dataset_id = dataset_state.claim_for_update(context.engine, project_name=project_name, dataset_type=dataset_type)
    try:
        with transaction(context.engine) as session:
            dataset = session.get(Dataset, dataset_id)
            assert dataset is not None
            work(session, dataset)
            dataset_state.set_status(
                session, dataset=dataset, status=dataset_state.UPDATE_COMPLETE, message=dataset_state.UPDATED_MESSAGE
            )
            return dataset
    except ServiceError as exc:
        problems = manifest_jobs.problem_list(exc.problems) if isinstance(exc, EntriesRejected) else None
        dataset_state.record_failed_update(
            context.engine, dataset_id=dataset_id, message=exc.message, problems=problems
        )
        raise
    except Exception:
        dataset_state.record_failed_update(
            context.engine, dataset_id=dataset_id, message="The update failed on an internal error; no entry changed."
        )
        raise


def _replayed_response(session: Session, *, client_token: str | None, parameters: dict[str, Any]) -> dict | None:
    """The stored answer to an UpdateDatasetEntries already made with this token (Conflict if its request differed)."""
    if client_token is None:
        return None
    return replayed_response(
        session, operation="UpdateDatasetEntries", client_token=client_token, parameters=parameters
    )

"""Finding a dataset and moving it through its statuses.

An update claims its dataset first, in a transaction of its own (Status UPDATE_IN_PROGRESS), so that a second update or
a DeleteDataset arriving meanwhile is refused with a ConflictException instead of waiting on a lock or racing. A claim
older than `STALE_CLAIM_AFTER` is treated as left behind by a process that died mid-update and may be taken over.
"""

from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.db.engine import transaction
from service.db.models import Dataset, Project, utcnow
from service.domain.names import validate_dataset_type
from service.errors import ConflictException, ResourceNotFoundException

CREATE_IN_PROGRESS = "CREATE_IN_PROGRESS"
CREATE_COMPLETE = "CREATE_COMPLETE"
CREATE_FAILED = "CREATE_FAILED"
UPDATE_IN_PROGRESS = "UPDATE_IN_PROGRESS"
UPDATE_COMPLETE = "UPDATE_COMPLETE"
UPDATE_FAILED_ROLLBACK_COMPLETE = "UPDATE_FAILED_ROLLBACK_COMPLETE"
IN_PROGRESS = (UPDATE_IN_PROGRESS, CREATE_IN_PROGRESS, "DELETE_IN_PROGRESS", "UPDATE_FAILED_ROLLBACK_IN_PROGRESS")
STALE_CLAIM_AFTER = timedelta(hours=1)
CREATING_MESSAGE = "The dataset is creating."
CREATED_MESSAGE = "The dataset was created successfully."
UPDATING_MESSAGE = "The dataset is updating."
UPDATED_MESSAGE = "The dataset was updated successfully."
"""StatusMessages in Lookout for Vision's wording (its documentation shows the first two; the others follow them)."""
MAX_STATUS_MESSAGE = 2000


def get_dataset(session: Session, *, project_name: str, dataset_type: str) -> Dataset:
    validate_dataset_type(dataset_type)
    query = (
        select(Dataset)
        .join(Project, col(Project.id) == col(Dataset.project_id))
        .where(Project.name == project_name, Dataset.dataset_type == dataset_type)
    )
    dataset = session.exec(query).first()
    if dataset is None:
        if session.exec(select(Project).where(Project.name == project_name)).first() is None:
            raise ResourceNotFoundException(
                f"Project {project_name} does not exist.", resource_id=project_name, resource_type="PROJECT"
            )
        raise ResourceNotFoundException(
            f"Project {project_name} has no {dataset_type} dataset.",
            resource_id=f"{project_name}/{dataset_type}",
            resource_type="DATASET",
        )
    return dataset


def is_busy(dataset: Dataset, *, now: datetime | None = None) -> bool:
    """Whether another operation holds the dataset (a fresh in-progress status)."""
    updated = dataset.updated_at if dataset.updated_at.tzinfo else dataset.updated_at.replace(tzinfo=UTC)
    return dataset.status in IN_PROGRESS and (now or utcnow()) - updated < STALE_CLAIM_AFTER


def refuse_if_busy(dataset: Dataset, *, project_name: str, action: str) -> None:
    if is_busy(dataset):
        raise ConflictException(
            f"The {dataset.dataset_type} dataset of project {project_name} is {dataset.status}; {action} when it ends.",
            resource_id=f"{project_name}/{dataset.dataset_type}",
            resource_type="DATASET",
        )


def claim_for_update(engine: Engine, *, project_name: str, dataset_type: str) -> int:
    """Mark the dataset UPDATE_IN_PROGRESS and commit; the id of the claimed dataset. Conflict if already held."""
    with transaction(engine) as session:
        dataset = get_dataset(session, project_name=project_name, dataset_type=dataset_type)
        refuse_if_busy(dataset, project_name=project_name, action="retry the update")
        claimed = session.execute(
            update(Dataset)
            .where(col(Dataset.id) == dataset.id, col(Dataset.status) == dataset.status)
            .where(col(Dataset.updated_at) == dataset.updated_at)
            .values(status=UPDATE_IN_PROGRESS, status_message=UPDATING_MESSAGE, updated_at=utcnow())
        )
        if claimed.rowcount != 1:
            raise ConflictException(
                f"The {dataset_type} dataset of project {project_name} is being updated by another request; retry.",
                resource_id=f"{project_name}/{dataset_type}",
                resource_type="DATASET",
            )
        assert dataset.id is not None
        return dataset.id


def set_status(
    session: Session, *, dataset: Dataset, status: str, message: str = "", problems: list[dict] | None = None
) -> None:
    """A new status; `problems` are the refused lines of the operation that ended in it (none unless it failed)."""
    dataset.status = status
    dataset.status_message = shorten(message)
    dataset.problems = problems or []
    dataset.updated_at = utcnow()
    session.add(dataset)
    session.flush()


def record_failed_update(
    engine: Engine, *, dataset_id: int, message: str, problems: list[dict] | None = None, status: str = ""
) -> None:
    """After a refused batch rolled back: say so on the dataset (UPDATE_FAILED_ROLLBACK_COMPLETE unless `status`
    says otherwise), with the refused lines, in a transaction of its own."""
    with transaction(engine) as session:
        dataset = session.get(Dataset, dataset_id)
        if dataset is not None:
            failed = status or UPDATE_FAILED_ROLLBACK_COMPLETE
            set_status(session, dataset=dataset, status=failed, message=message, problems=problems)


def shorten(message: str) -> str:
    if len(message) <= MAX_STATUS_MESSAGE:
        return message
    return message[: MAX_STATUS_MESSAGE - 20].rstrip() + " ... (truncated)"

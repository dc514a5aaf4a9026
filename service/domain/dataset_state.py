"""Finding a dataset and moving it through its statuses.

An update claims its dataset first, in a transaction of its own (Status UPDATE_IN_PROGRESS, `claimed_by` naming the
process), so that a second update or a DeleteDataset arriving meanwhile is refused with a ConflictException instead of
waiting on a lock or racing. The update itself runs in one database transaction, so a process that dies mid-update
leaves the entries as they were: its claim is released (`UPDATE_FAILED_ROLLBACK_COMPLETE`, the previous dataset) on
start-up, or as soon as the claiming process is known to be gone (same host, process no longer running), or once it
is older than `STALE_CLAIM_AFTER` (a process on another host).
"""

import os
import socket
import uuid
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
INTERRUPTED = "The update was interrupted (the server stopped); no entry changed."
INTERRUPTED_CREATE = "The dataset's creation was interrupted (the server stopped); the dataset holds no entry."
_HOST = socket.gethostname()
OWNER = f"{_HOST}:{os.getpid()}:{uuid.uuid4().hex}"
"""Who claims datasets from this process: host, process id, and a token unique to this start."""


def owner_gone(owner: str | None) -> bool:
    """Whether the process that made a claim is known to have ended (only knowable on this host)."""
    if owner is None:
        return True
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != _HOST or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return owner != OWNER
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


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
    """Whether another operation holds the dataset (an in-progress status whose owner may still be running)."""
    updated = dataset.updated_at if dataset.updated_at.tzinfo else dataset.updated_at.replace(tzinfo=UTC)
    if dataset.status not in IN_PROGRESS or owner_gone(dataset.claimed_by):
        return False
    return (now or utcnow()) - updated < STALE_CLAIM_AFTER


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
            .values(status=UPDATE_IN_PROGRESS, status_message=UPDATING_MESSAGE, claimed_by=OWNER, updated_at=utcnow())
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
    dataset.claimed_by = OWNER if status in IN_PROGRESS else None
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


def release_abandoned_claims(engine: Engine) -> int:
    """Roll back datasets whose claiming process is gone (run on start-up): the entries never changed (the update's
    transaction did not commit), so the dataset is the previous one with status UPDATE_FAILED_ROLLBACK_COMPLETE, or
    CREATE_FAILED for a dataset whose manifest was never applied.
    Returns how many were released."""
    with transaction(engine) as session:
        held = list(session.exec(select(Dataset).where(col(Dataset.status).in_(IN_PROGRESS))))
        released = 0
        for dataset in held:
            if not is_busy(dataset):
                if dataset.status == CREATE_IN_PROGRESS:
                    set_status(session, dataset=dataset, status=CREATE_FAILED, message=INTERRUPTED_CREATE)
                else:
                    set_status(session, dataset=dataset, status=UPDATE_FAILED_ROLLBACK_COMPLETE, message=INTERRUPTED)
                released += 1
        return released


def shorten(message: str) -> str:
    if len(message) <= MAX_STATUS_MESSAGE:
        return message
    return message[: MAX_STATUS_MESSAGE - 20].rstrip() + " ... (truncated)"

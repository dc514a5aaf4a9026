"""AddReviewsToDataset: completed review tasks become labelled, human-annotated entries of the train or test dataset.

Each entry carries the human verdict as its label, the reviewer's mask when there is one, `human-annotated: yes` and
the task id in its metadata (`review-task-id`), so the next CreateModel uses it. A task already added to a dataset is
left alone, so adding it twice changes nothing. The batch is all or nothing and runs under the dataset's update claim.
"""

from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from service.context import AppContext
from service.db.engine import transaction
from service.db.models import Dataset, DatasetEntry, Project, ReviewTask
from service.domain import datasets
from service.domain.datasets import ImageStats
from service.domain.entries import PendingEntry, PendingImage, apply_entries
from service.domain.images import image_key, inspect_image
from service.domain.names import validate_dataset_type
from service.domain.review import tasks
from service.domain.uploads import ensure_dataset
from service.errors import ConflictException, ValidationException
from service.storage import ObjectStore

MAX_TASKS = 1000
TASK_ID_METADATA = "review-task-id"


@dataclass(frozen=True)
class CompletedFilter:
    model_version: int | None = None
    reason: str | None = None
    verdict: str | None = None


@dataclass(frozen=True)
class AddOutcome:
    dataset_type: str
    dataset_created: bool
    added: list[int]
    already_added: list[int]
    stats: ImageStats | None


def _reader(store: ObjectStore, key: str) -> Callable[[], bytes]:
    return lambda: store.get(key)


def _selected(
    session: Session, *, project: Project, task_ids: list[str] | None, filters: CompletedFilter
) -> list[ReviewTask]:
    if task_ids is not None:
        if not task_ids or len(task_ids) > MAX_TASKS:
            raise ValidationException(f"TaskIds must name 1 to {MAX_TASKS} tasks; got {len(task_ids)}.")
        chosen = [tasks.find_task(session, project=project, task_id=task_id) for task_id in dict.fromkeys(task_ids)]
        open_ones = [str(task.id) for task in chosen if task.status != tasks.COMPLETED]
        if open_ones:
            raise ConflictException(
                f"Only completed review tasks can be added to a dataset; not completed: {', '.join(open_ones)}.",
                resource_id=project.name,
                resource_type="REVIEW_TASK",
            )
        return chosen
    query = select(ReviewTask).where(ReviewTask.project_id == project.id, ReviewTask.status == tasks.COMPLETED)
    if filters.model_version is not None:
        query = query.where(ReviewTask.model_version == filters.model_version)
    if filters.reason is not None:
        query = query.where(ReviewTask.reason == filters.reason)
    if filters.verdict is not None:
        query = query.where(ReviewTask.human_verdict == filters.verdict)
    chosen = list(session.exec(query.order_by(col(ReviewTask.id)).limit(MAX_TASKS + 1)))
    if len(chosen) > MAX_TASKS:
        raise ValidationException(f"The filter matches more than {MAX_TASKS} tasks; narrow it or name TaskIds.")
    return chosen


def add_reviews_to_dataset(
    context: AppContext,
    *,
    project_name: str,
    dataset_type: str,
    task_ids: list[str] | None,
    filters: CompletedFilter,
) -> AddOutcome:
    validate_dataset_type(dataset_type)
    if filters.verdict is not None and filters.verdict not in tasks.VERDICTS:
        raise ValidationException(f"Verdict must be 'normal' or 'anomaly'; got {filters.verdict!r}.")
    project = tasks.project_for(context.engine, project_name)
    assert project.id is not None
    with transaction(context.engine) as session:
        chosen = _selected(session, project=project, task_ids=task_ids, filters=filters)
    fresh = [task for task in chosen if dataset_type not in task.added_to]
    already = [task.id for task in chosen if dataset_type in task.added_to]
    gone = [str(task.id) for task in fresh if task.image_key is None]
    if gone:
        raise ConflictException(
            f"The images of review tasks {', '.join(gone)} are past their retention and no longer stored.",
            resource_id=project_name,
            resource_type="REVIEW_TASK",
        )
    if not fresh:
        return AddOutcome(dataset_type, False, [], [task_id for task_id in already if task_id is not None], None)
    pending = [_pending_entry(context, task) for task in fresh]
    created = ensure_dataset(context=context, project_name=project_name, dataset_type=dataset_type)
    stats: list[ImageStats] = []

    def work(session: Session, dataset: Dataset) -> None:
        apply_entries(session, store=context.store, dataset=dataset, pending=pending)
        _mark(session, dataset=dataset, added=fresh, pending=pending, dataset_type=dataset_type)
        stats.append(datasets.image_stats(session, dataset=dataset))

    datasets.run_claimed_update(context=context, project_name=project_name, dataset_type=dataset_type, work=work)
    added = [task.id for task in fresh if task.id is not None]
    return AddOutcome(dataset_type, created, added, [i for i in already if i is not None], stats[0])


def _pending_entry(context: AppContext, task: ReviewTask) -> PendingEntry:
    assert task.image_key is not None and task.human_verdict is not None
    store, settings = context.store, context.settings
    info = inspect_image(store.get(task.image_key), settings=settings)
    mask = None
    if task.human_verdict == "anomaly" and task.human_mask_key is not None:
        mask = PendingImage(
            inspect_image(store.get(task.human_mask_key), settings=settings, kind="mask"),
            _reader(store, task.human_mask_key),
        )
    return PendingEntry(
        source_ref=f"s3://{store.bucket}/{image_key(info)}",
        label=task.human_verdict,
        anomaly_class=None,
        human_annotated=True,
        manifest_line=None,
        image=PendingImage(info, _reader(store, task.image_key)),
        mask=mask,
    )


def _mark(
    session: Session, *, dataset: Dataset, added: list[ReviewTask], pending: list[PendingEntry], dataset_type: str
) -> None:
    """Put the task id in each new entry's metadata and remember, on the task, the dataset it went to."""
    for task, change in zip(added, pending, strict=True):
        assert change.image is not None
        entry = session.exec(
            select(DatasetEntry).where(
                DatasetEntry.dataset_id == dataset.id, DatasetEntry.image_sha256 == change.image.info.sha256
            )
        ).one()
        line = dict(entry.manifest_line)
        metadata = dict(line.get("anomaly-label-metadata", {}))
        metadata[TASK_ID_METADATA] = str(task.id)
        line["anomaly-label-metadata"] = metadata
        entry.manifest_line = line
        session.add(entry)
        stored = session.get(ReviewTask, task.id)
        assert stored is not None
        stored.added_to = [*stored.added_to, dataset_type]
        session.add(stored)
    session.flush()

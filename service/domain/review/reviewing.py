"""What a reviewer does with a held task: complete it (verdict, optional mask, note), release it or skip it.

Input is checked before anything is written; the verdict and the task's new state are one transaction, so a refused
call changes nothing.
"""

import uuid

from sqlalchemy.engine import Engine

from service.db.engine import transaction
from service.db.models import ReviewTask
from service.domain.entries import check_mask_fits
from service.domain.images import ImageRejected, inspect_image
from service.domain.review import media, tasks
from service.errors import ValidationException
from service.settings import Settings
from service.storage import ObjectStore, delete_quietly


def _checked_mask(mask: bytes, task: ReviewTask, settings: Settings) -> None:
    try:
        info = inspect_image(mask, settings=settings, kind="mask")
    except ImageRejected as exc:
        raise ValidationException(f"The mask is refused: {exc.reason}.") from None
    problem = check_mask_fits((task.width, task.height), info)
    if problem:
        raise ValidationException(f"The mask is refused: {problem}.")


def complete_task(
    engine: Engine,
    store: ObjectStore,
    settings: Settings,
    *,
    project_name: str,
    task_id: str,
    reviewer: str,
    verdict: str,
    note: str = "",
    mask: bytes | None = None,
) -> ReviewTask:
    """Record the caller's verdict on the task it holds."""
    tasks.check_verdict(verdict, note, mask is not None)
    project = tasks.project_for(engine, project_name)
    with transaction(engine) as session:
        task = tasks.find_task(session, project=project, task_id=task_id)
    if mask is not None:
        _checked_mask(mask, task, settings)
    mask_key = None
    try:
        with transaction(engine) as session:
            task = tasks.hold(session, project=project, task_id=task_id, reviewer=reviewer)
            if mask is not None:
                mask_key = f"{media.PREFIX}{task.project_id}/masks/{uuid.uuid4().hex}.png"
                store.put(mask_key, mask, "image/png")
            tasks.record_verdict(
                session,
                project=project,
                task=task,
                reviewer=reviewer,
                verdict=tasks.Verdict(verdict=verdict, note=note, mask_key=mask_key),
            )
            return task
    except BaseException:
        if mask_key is not None:
            delete_quietly(store, [mask_key])
        raise


def release_task(engine: Engine, *, project_name: str, task_id: str, reviewer: str, skip: bool) -> ReviewTask:
    """Give the held task back to the queue (`skip`: and never offer it to this reviewer again)."""
    project = tasks.project_for(engine, project_name)
    with transaction(engine) as session:
        task = tasks.hold(session, project=project, task_id=task_id, reviewer=reviewer)
        tasks.give_back(session, project=project, task=task, reviewer=reviewer, skip=skip)
        return task

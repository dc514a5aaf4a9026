"""The reviewer queue: tasks move PENDING -> CLAIMED (one reviewer, under a lease) -> COMPLETED, or EXPIRED once
their time to live passes; a release, a skip, a lapsed lease or a verdict that still needs more reviewers puts a task
back to PENDING.

Every change is a conditional UPDATE on the state the caller expects, so two reviewers never hold one task and a
reviewer whose lease lapsed cannot complete a task someone else took since. On PostgreSQL the next task is picked
with `FOR UPDATE SKIP LOCKED`, so concurrent claimers pass over each other's candidates instead of queueing on them.
Any call of the holder on its task renews the lease. The reviewer is the caller's access key id.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from service.db.engine import transaction
from service.db.models import Project, ReviewAction, ReviewTask, utcnow
from service.domain.projects import get_project
from service.errors import ConflictException, ResourceNotFoundException, ThrottlingException, ValidationException

PENDING, CLAIMED, COMPLETED, EXPIRED = "PENDING", "CLAIMED", "COMPLETED", "EXPIRED"
STATUSES = (PENDING, CLAIMED, COMPLETED, EXPIRED)
VERDICTS = ("normal", "anomaly")
VERDICT, SKIP = "VERDICT", "SKIP"
AUDIT_EVERY = 3
"""Of every AUDIT_EVERY claims of the next task, one goes to the oldest pending audit (when one waits)."""
MAX_NOTE = 1000
_CLAIM_ATTEMPTS = 50


def aware(value: datetime | None) -> datetime | None:
    """Times read back from SQLite lose their zone; they are UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _clock(value: datetime | None) -> str:
    moment = aware(value)
    return "-" if moment is None else f"{moment:%Y-%m-%dT%H:%M:%SZ}"


def parse_task_id(task_id: str) -> int:
    if not task_id.isdigit() or int(task_id) < 1:
        raise ValidationException(f"Task id {task_id!r} is not valid: use the TaskId a previous call returned.")
    return int(task_id)


def housekeep(engine: Engine, *, project_id: int, now: datetime | None = None) -> None:
    """Expire tasks past their time to live and return lapsed leases to the queue (own transaction)."""
    now = now or utcnow()
    with transaction(engine) as session:
        session.execute(
            update(ReviewTask)
            .where(
                col(ReviewTask.project_id) == project_id,
                col(ReviewTask.status).in_([PENDING, CLAIMED]),
                col(ReviewTask.expires_at) < now,
            )
            .values(status=EXPIRED, ended_at=now, claimed_by=None, lease_expires_at=None)
        )
        session.execute(
            update(ReviewTask)
            .where(
                col(ReviewTask.project_id) == project_id,
                col(ReviewTask.status) == CLAIMED,
                col(ReviewTask.lease_expires_at) < now,
            )
            .values(status=PENDING, claimed_by=None, lease_expires_at=None)
        )


def project_for(engine: Engine, project_name: str) -> Project:
    with transaction(engine) as session:
        return get_project(session, name=project_name)


def find_task(session: Session, *, project: Project, task_id: str) -> ReviewTask:
    """The task of this project; a task of another project is as unknown as a missing one."""
    task = session.get(ReviewTask, parse_task_id(task_id))
    if task is None or task.project_id != project.id:
        raise ResourceNotFoundException(
            f"Review task {task_id} of project {project.name} does not exist.",
            resource_id=f"{project.name}/{task_id}",
            resource_type="REVIEW_TASK",
        )
    return task


def actions_of(session: Session, task_ids: list[int]) -> dict[int, list[ReviewAction]]:
    found: dict[int, list[ReviewAction]] = {task_id: [] for task_id in task_ids}
    if task_ids:
        query = select(ReviewAction).where(col(ReviewAction.task_id).in_(task_ids)).order_by(col(ReviewAction.id))
        for action in session.exec(query):
            found[action.task_id].append(action)
    return found


@dataclass(frozen=True)
class TaskFilter:
    status: str | None = None
    model_version: int | None = None
    reason: str | None = None


def list_tasks(
    engine: Engine, *, project_name: str, filters: TaskFilter, after_id: int, limit: int
) -> tuple[list[ReviewTask], dict[int, list[ReviewAction]]]:
    """Tasks oldest first after `after_id`, one more than `limit` (a next page exists), with their audit trails."""
    if filters.status is not None and filters.status not in STATUSES:
        raise ValidationException(f"Status must be one of {', '.join(STATUSES)}; got {filters.status!r}.")
    project = project_for(engine, project_name)
    assert project.id is not None
    housekeep(engine, project_id=project.id)
    with transaction(engine) as session:
        query = select(ReviewTask).where(ReviewTask.project_id == project.id, col(ReviewTask.id) > after_id)
        if filters.status is not None:
            query = query.where(ReviewTask.status == filters.status)
        if filters.model_version is not None:
            query = query.where(ReviewTask.model_version == filters.model_version)
        if filters.reason is not None:
            query = query.where(ReviewTask.reason == filters.reason)
        rows = list(session.exec(query.order_by(col(ReviewTask.id)).limit(limit + 1)))
        return rows, actions_of(session, [row.id for row in rows[:limit] if row.id is not None])


def _candidates(
    project_id: int, reviewer: str, *, audits: bool, model_version: int | None
) -> SelectOfScalar[ReviewTask]:
    """The first pending task of one kind this reviewer has not acted on; skipped when another claimer locks it."""
    acted = select(ReviewAction.task_id).where(ReviewAction.project_id == project_id, ReviewAction.reviewer == reviewer)
    query = select(ReviewTask).where(
        ReviewTask.project_id == project_id,
        ReviewTask.status == PENDING,
        col(ReviewTask.sampled).is_(audits),
        col(ReviewTask.id).not_in(acted),
    )
    if model_version is not None:
        query = query.where(ReviewTask.model_version == model_version)
    order = (col(ReviewTask.id),) if audits else (col(ReviewTask.priority), col(ReviewTask.id))
    return query.order_by(*order).limit(1).with_for_update(skip_locked=True)


def _audit_turn(session: Session, project_id: int) -> bool:
    verdicts = session.exec(
        select(func.count())
        .select_from(ReviewAction)
        .where(ReviewAction.project_id == project_id, ReviewAction.action == VERDICT)
    ).one()
    return verdicts % AUDIT_EVERY == AUDIT_EVERY - 1


def _take(session: Session, task: ReviewTask, reviewer: str, now: datetime) -> bool:
    result = session.execute(
        update(ReviewTask)
        .where(col(ReviewTask.id) == task.id, col(ReviewTask.status) == PENDING)
        .values(
            status=CLAIMED,
            claimed_by=reviewer,
            claimed_at=now,
            lease_expires_at=now + timedelta(seconds=task.lease_seconds),
        )
    )
    return bool(getattr(result, "rowcount", 0))


def claim_next(
    engine: Engine, *, project_name: str, reviewer: str, model_version: int | None = None
) -> ReviewTask | None:
    """Claim the next task for this reviewer: the pending task closest to its threshold, with one audit every
    AUDIT_EVERY claims; never a task the reviewer already judged or skipped. None when nothing is pending."""
    project = project_for(engine, project_name)
    assert project.id is not None
    housekeep(engine, project_id=project.id)
    for _ in range(_CLAIM_ATTEMPTS):
        with transaction(engine) as session:
            order = (True, False) if _audit_turn(session, project.id) else (False, True)
            candidate = None
            for audits in order:
                candidate = session.exec(
                    _candidates(project.id, reviewer, audits=audits, model_version=model_version)
                ).first()
                if candidate is not None:
                    break
            if candidate is None:
                return None
            now = utcnow()
            if _take(session, candidate, reviewer, now):
                session.refresh(candidate)
                return candidate
    raise ThrottlingException("Too many reviewers are claiming tasks at once; retry.", retry_after_seconds=1)


def claim_task(engine: Engine, *, project_name: str, task_id: str, reviewer: str) -> ReviewTask:
    """Claim one named task (or renew the lease when the caller holds it already)."""
    project = project_for(engine, project_name)
    assert project.id is not None
    housekeep(engine, project_id=project.id)
    with transaction(engine) as session:
        task = find_task(session, project=project, task_id=task_id)
        now = utcnow()
        if task.status == CLAIMED and task.claimed_by == reviewer:
            return _renewed(session, task, reviewer, now)
        if task.status != PENDING:
            raise _not_claimable(project, task)
        judged = session.exec(
            select(ReviewAction.id).where(
                ReviewAction.task_id == task.id, ReviewAction.reviewer == reviewer, ReviewAction.action == VERDICT
            )
        ).first()
        if judged is not None:
            raise ConflictException(
                f"Review task {task.id} already has your verdict; it waits for another reviewer.",
                resource_id=f"{project.name}/{task.id}",
                resource_type="REVIEW_TASK",
            )
        if not _take(session, task, reviewer, now):
            session.refresh(task)
            raise _not_claimable(project, task)
        session.refresh(task)
        return task


def _not_claimable(project: Project, task: ReviewTask) -> ConflictException:
    why = {
        CLAIMED: f"is claimed by another reviewer until {_clock(task.lease_expires_at)}",
        COMPLETED: "is already completed",
        EXPIRED: "has expired (its time to live passed before anyone completed it)",
    }.get(task.status, f"is {task.status}")
    return ConflictException(
        f"Review task {task.id} {why}.", resource_id=f"{project.name}/{task.id}", resource_type="REVIEW_TASK"
    )


def _renewed(session: Session, task: ReviewTask, reviewer: str, now: datetime) -> ReviewTask:
    session.execute(
        update(ReviewTask)
        .where(col(ReviewTask.id) == task.id, col(ReviewTask.status) == CLAIMED, col(ReviewTask.claimed_by) == reviewer)
        .values(lease_expires_at=now + timedelta(seconds=task.lease_seconds))
    )
    session.refresh(task)
    return task


def hold(session: Session, *, project: Project, task_id: str, reviewer: str) -> ReviewTask:
    """The task, held by the caller under a live lease, with the lease renewed; Conflict in every other case."""
    task = find_task(session, project=project, task_id=task_id)
    now = utcnow()
    result = session.execute(
        update(ReviewTask)
        .where(
            col(ReviewTask.id) == task.id,
            col(ReviewTask.status) == CLAIMED,
            col(ReviewTask.claimed_by) == reviewer,
            col(ReviewTask.lease_expires_at) >= now,
        )
        .values(lease_expires_at=now + timedelta(seconds=task.lease_seconds))
    )
    if getattr(result, "rowcount", 0) == 1:
        session.refresh(task)
        return task
    where = {"resource_id": f"{project.name}/{task.id}", "resource_type": "REVIEW_TASK"}
    if task.status == CLAIMED and task.claimed_by == reviewer:
        raise ConflictException(
            f"Your lease on review task {task.id} expired at {_clock(task.lease_expires_at)}; claim it again.",
            **where,
        )
    if task.status == PENDING:
        raise ConflictException(
            f"Review task {task.id} is not claimed by you (its lease may have lapsed); claim it first.", **where
        )
    raise _not_claimable(project, task)


def describe_task(
    engine: Engine, *, project_name: str, task_id: str, reviewer: str
) -> tuple[ReviewTask, list[ReviewAction]]:
    """The task and its audit trail; when the caller holds it, the call renews the lease."""
    project = project_for(engine, project_name)
    with transaction(engine) as session:
        task = find_task(session, project=project, task_id=task_id)
        lease = aware(task.lease_expires_at)
        if task.status == CLAIMED and task.claimed_by == reviewer and lease is not None and lease >= utcnow():
            task = hold(session, project=project, task_id=task_id, reviewer=reviewer)
        assert task.id is not None
        return task, actions_of(session, [task.id])[task.id]


@dataclass(frozen=True)
class Verdict:
    verdict: str
    note: str = ""
    mask_key: str | None = None


def check_verdict(verdict: str, note: str, has_mask: bool) -> None:
    if verdict not in VERDICTS:
        raise ValidationException(f"Verdict must be 'normal' or 'anomaly'; got {verdict!r}.")
    if len(note) > MAX_NOTE:
        raise ValidationException(f"Note must be at most {MAX_NOTE} characters; got {len(note)}.")
    if has_mask and verdict != "anomaly":
        raise ValidationException("A mask goes with the verdict 'anomaly' only.")


def _audit_entry(task: ReviewTask, project: Project, reviewer: str, action: str, **details: Any) -> ReviewAction:
    """One line of the audit trail: who did what to the task, beside what the model had said."""
    assert task.id is not None and project.id is not None
    return ReviewAction(
        task_id=task.id,
        project_id=project.id,
        reviewer=reviewer,
        action=action,
        claimed_at=task.claimed_at,
        model_is_anomalous=task.is_anomalous,
        model_confidence=task.confidence,
        model_score=task.score,
        **details,
    )


def record_verdict(session: Session, *, project: Project, task: ReviewTask, reviewer: str, verdict: Verdict) -> None:
    """Add the verdict to the audit trail; the task completes when `required_reviews` verdicts agree, else it goes
    back to the queue for another reviewer (flagged `disputed` when verdicts differ). Runs under `hold`."""
    now = utcnow()
    assert task.id is not None and project.id is not None
    session.add(
        _audit_entry(
            task,
            project,
            reviewer,
            VERDICT,
            acted_at=now,
            verdict=verdict.verdict,
            note=verdict.note,
            mask_key=verdict.mask_key,
        )
    )
    session.flush()
    trail = actions_of(session, [task.id])[task.id]
    votes = Counter(action.verdict for action in trail if action.action == VERDICT)
    disputed = len(votes) > 1
    if votes[verdict.verdict] >= task.required_reviews:
        masks = [a.mask_key for a in trail if a.action == VERDICT and a.verdict == verdict.verdict and a.mask_key]
        values = {
            "status": COMPLETED,
            "human_verdict": verdict.verdict,
            "human_mask_key": masks[-1] if masks else None,
            "completed_at": now,
            "ended_at": now,
            "disputed": disputed,
            "lease_expires_at": None,
        }
    else:
        values = {"status": PENDING, "claimed_by": None, "lease_expires_at": None, "disputed": disputed}
    session.execute(
        update(ReviewTask).where(col(ReviewTask.id) == task.id, col(ReviewTask.status) == CLAIMED).values(**values)
    )
    session.refresh(task)


def give_back(session: Session, *, project: Project, task: ReviewTask, reviewer: str, skip: bool) -> None:
    """Release the held task to the queue; a skip also keeps it from this reviewer's next claims."""
    assert task.id is not None and project.id is not None
    if skip:
        session.add(_audit_entry(task, project, reviewer, SKIP))
    session.execute(
        update(ReviewTask)
        .where(col(ReviewTask.id) == task.id, col(ReviewTask.status) == CLAIMED, col(ReviewTask.claimed_by) == reviewer)
        .values(status=PENDING, claimed_by=None, lease_expires_at=None)
    )
    session.refresh(task)

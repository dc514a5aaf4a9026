"""DeleteModel as one unit of work: the rows go in the transaction; objects, the hosting cache's copy and a running
training job are dealt with once it commits.

A queued or finished model goes at once (its objects are purged and its cached copy evicted after the commit); a model
whose training job runs stays DELETING and the job runner is asked to stop it, and the job's settling removes it
(`training_outcomes`).

The database removes the rows that hang off the model (ON DELETE CASCADE); the objects of its review tasks and of the
shadow pairs it was in are listed before and deleted after the commit, since no sweep could find them once their rows
are gone. The detections log's images go by day with the retention.
"""

from sqlmodel import Session, col, or_, select

from service.arns import model_arn
from service.db.engine import UnitOfWork
from service.db.models import Model, ReviewAction, ReviewTask, ShadowModel, ShadowResult
from service.domain import tags, training_runs
from service.domain.hosting import Hosting, evict_cached_artifacts
from service.jobs.runner import JobRunner
from service.storage import delete_quietly


def delete_model(work: UnitOfWork, hosting: Hosting, jobs: JobRunner, *, project_name: str, version: str) -> str:
    """Delete (or start deleting) a model version; returns its ARN."""
    session, context = work.session, hosting.context
    model, running_job = training_runs.delete_model(session, project_name=project_name, version=version)
    arn = model_arn(context.settings, project_name, str(model.version))
    tags.delete_resource_tags(session, arn=arn)
    if running_job is not None:
        job_id = running_job.id
        assert job_id is not None
        work.after_commit(lambda: jobs.cancel(job_id))
        return arn
    cascaded = cascaded_object_keys(session, model=model)
    training_runs.remove_model_rows(session, model=model)
    work.after_commit(lambda: training_runs.purge_model_objects(context.store, model=model))
    work.after_commit(lambda: delete_quietly(context.store, cascaded))
    work.after_commit(lambda: evict_cached_artifacts(hosting, model=model))
    return arn


def cascaded_object_keys(session: Session, *, model: Model) -> list[str]:
    """Storage keys of the review tasks (image, anomaly map, masks, reviewers' masks) and shadow disagreements
    (image, mask, anomaly map) whose rows go with the model."""
    tasks = session.exec(
        select(ReviewTask.id, ReviewTask.image_key, ReviewTask.anomaly_map_key, ReviewTask.mask_key).where(
            ReviewTask.model_id == model.id
        )
    ).all()
    task_ids = [task_id for task_id, *_ in tasks]
    reviewer_masks = session.exec(select(ReviewAction.mask_key).where(col(ReviewAction.task_id).in_(task_ids))).all()
    pairs = select(ShadowModel.id).where(
        or_(ShadowModel.live_model_id == model.id, ShadowModel.shadow_model_id == model.id)
    )
    disagreements = session.exec(
        select(ShadowResult.image_key, ShadowResult.mask_key, ShadowResult.anomaly_map_key).where(
            col(ShadowResult.shadow_id).in_(pairs)
        )
    ).all()
    keys = [key for _, *task_keys in tasks for key in task_keys] + list(reviewer_masks)
    keys += [key for row in disagreements for key in row]
    return [key for key in keys if key]

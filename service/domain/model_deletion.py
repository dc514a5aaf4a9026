"""DeleteModel as one unit of work: the rows go in the transaction; objects, the hosting cache's copy and a running
training job are dealt with once it commits.

A queued or finished model goes at once (its objects are purged and its cached copy evicted after the commit); a model
whose training job runs stays DELETING and the job runner is asked to stop it, and the job's settling removes it
(`training_outcomes`).
"""

from service.arns import model_arn
from service.db.engine import UnitOfWork
from service.domain import tags, training_runs
from service.domain.hosting import Hosting, evict_cached_artifacts
from service.jobs.runner import JobRunner


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
    training_runs.remove_model_rows(session, model=model)
    work.after_commit(lambda: training_runs.purge_model_objects(context.store, model=model))
    work.after_commit(lambda: evict_cached_artifacts(hosting, model=model))
    return arn

"""DescribeTrainingJob (openlv extension): a model's training progress and log, readable while it trains."""

from typing import Any

from fastapi import APIRouter, Query

from service.api.deps import Context, epoch
from service.db.engine import transaction
from service.domain import training_runs
from service.domain.training_jobs import log_lines
from service.errors import ResourceNotFoundException

router = APIRouter()
LOG_PAGE = 1000


@router.get("/projects/{project_name}/models/{model_version}/training")
def describe_training_job(
    project_name: str,
    model_version: str,
    context: Context,
    log_after: int = Query(default=0, alias="logAfter", ge=0),
) -> dict[str, Any]:
    """Progress of the model's training job and its log lines after id `logAfter` (poll with the last id seen)."""
    with transaction(context.engine) as session:
        model = training_runs.get_model(session, project_name=project_name, version=model_version)
        job = training_runs.get_job(session, model=model)
        if job is None:
            raise ResourceNotFoundException(
                f"Model {model.version} of project {project_name} has no training job.",
                resource_id=f"{project_name}/{model.version}",
                resource_type="TRAINING_JOB",
            )
        lines = log_lines(session, job_id=job.id, after_id=log_after, limit=LOG_PAGE)  # type: ignore[arg-type]
    job_json: dict[str, Any] = {
        "State": job.state,
        "Phase": job.phase,
        "Percent": job.percent,
        "Message": job.message,
        "Attempts": job.attempts,
        "CancelRequested": job.cancel_requested,
        "CreationTimestamp": epoch(job.created_at),
    }
    if job.started_at is not None:
        job_json["StartTimestamp"] = epoch(job.started_at)
    if job.finished_at is not None:
        job_json["EndTimestamp"] = epoch(job.finished_at)
    return {
        "TrainingJob": job_json,
        "Log": [{"Id": line.id, "Timestamp": epoch(line.logged_at), "Message": line.message} for line in lines],
    }

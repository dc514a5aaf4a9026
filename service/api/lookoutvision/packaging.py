"""StartModelPackagingJob, DescribeModelPackagingJob, ListModelPackagingJobs: edge bundles of trained models."""

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from service.api.deps import ClientToken, Context, epoch
from service.api.pagination import page_request, page_response
from service.db.engine import UnitOfWork, transaction
from service.db.models import PackagingJob
from service.domain import packaging
from service.domain.idempotency import run_idempotent

router = APIRouter()

PACKAGING_METHOD = "Greengrass"
_DESCRIPTION = r"^[a-zA-Z0-9\-_. ()':,;?]+$"
_TAG_TEXT = r"^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$"


class OutputLocationShape(BaseModel):
    Bucket: str = Field(min_length=3, max_length=63, pattern=r"^[0-9A-Za-z.\-_]*$")
    Prefix: str | None = Field(default=None, max_length=1024, pattern=r"^([a-zA-Z0-9!_.*'()-][/a-zA-Z0-9!_.*'()-]*)?$")


class TargetPlatformShape(BaseModel):
    Os: str
    Arch: str
    Accelerator: str | None = None


class ComponentTag(BaseModel):
    Key: str = Field(min_length=1, max_length=128, pattern=_TAG_TEXT)
    Value: str = Field(max_length=256, pattern=_TAG_TEXT)


class GreengrassConfiguration(BaseModel):
    S3OutputLocation: OutputLocationShape
    ComponentName: str = Field(min_length=1, max_length=128, pattern=r"^[a-zA-Z0-9\-_.]+$")
    ComponentVersion: str | None = Field(default=None, max_length=64, pattern=r"^\d{1,6}\.\d{1,6}\.\d{1,6}$")
    ComponentDescription: str | None = Field(default=None, min_length=1, max_length=256, pattern=_DESCRIPTION)
    CompilerOptions: str | None = Field(default=None, min_length=3, max_length=1024)
    TargetDevice: str | None = None
    TargetPlatform: TargetPlatformShape | None = None
    Tags: list[ComponentTag] | None = Field(default=None, max_length=200)


class PackagingConfiguration(BaseModel):
    Greengrass: GreengrassConfiguration


class StartModelPackagingJobRequest(BaseModel):
    ModelVersion: str = Field(min_length=1, max_length=10, pattern=r"^([1-9][0-9]*|latest|LATEST)$")
    Configuration: PackagingConfiguration
    JobName: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9-]+$")
    Description: str | None = Field(default=None, min_length=1, max_length=256, pattern=_DESCRIPTION)


def job_metadata(project_name: str, job: PackagingJob) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "JobName": job.job_name,
        "ProjectName": project_name,
        "ModelVersion": str(job.model_version),
        "ModelPackagingMethod": PACKAGING_METHOD,
        "Status": job.status,
        "StatusMessage": job.status_message,
        "CreationTimestamp": epoch(job.created_at),
        "LastUpdatedTimestamp": epoch(job.updated_at),
    }
    if job.description:
        metadata["ModelPackagingJobDescription"] = job.description
    return metadata


def job_description(project_name: str, job: PackagingJob) -> dict[str, Any]:
    """The job as DescribeModelPackagingJob reports it. No ComponentVersionArn: openlv registers no Greengrass
    component; the bundle's location is in StatusMessage and follows from S3OutputLocation (see docs)."""
    component = {"ComponentName": job.component_name, "ComponentVersion": job.component_version}
    return {
        **job_metadata(project_name, job),
        "ModelPackagingConfiguration": {"Greengrass": job.configuration},
        "ModelPackagingOutputDetails": {"Greengrass": component},
    }


@router.post("/projects/{project_name}/modelpackagingjobs")
def start_model_packaging_job(
    project_name: str,
    body: StartModelPackagingJobRequest,
    context: Context,
    client_token: ClientToken = None,
) -> dict[str, Any]:
    def produce(work: UnitOfWork) -> dict[str, Any]:
        job = packaging.start_job(
            work,
            engine=context.engine,
            store=context.store,
            project_name=project_name,
            model_version=body.ModelVersion,
            greengrass=body.Configuration.Greengrass.model_dump(exclude_none=True),
            job_name=body.JobName,
            description=body.Description or "",
        )
        return {"JobName": job.job_name}

    return run_idempotent(
        context.engine,
        operation="StartModelPackagingJob",
        client_token=client_token,
        parameters={"ProjectName": project_name, **body.model_dump()},
        produce=produce,
    )


@router.get("/projects/{project_name}/modelpackagingjobs/{job_name}")
def describe_model_packaging_job(project_name: str, job_name: str, context: Context) -> dict[str, Any]:
    with transaction(context.engine) as session:
        job = packaging.get_job(session, project_name=project_name, job_name=job_name)
    return {"ModelPackagingDescription": job_description(project_name, job)}


@router.get("/projects/{project_name}/modelpackagingjobs")
def list_model_packaging_jobs(
    project_name: str,
    context: Context,
    next_token: str | None = Query(default=None, alias="nextToken"),
    max_results: int | None = Query(default=None, alias="maxResults"),
) -> dict[str, Any]:
    page = page_request(next_token, max_results, key="below")
    with transaction(context.engine) as session:
        rows = packaging.list_jobs(session, project_name=project_name, below_id=page.cursor or 0, limit=page.limit)
    return page_response(
        page,
        rows,
        items="ModelPackagingJobs",
        shape=lambda row: job_metadata(project_name, row),
        cursor_of=lambda row: row.id,
    )

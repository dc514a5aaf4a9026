"""StartModelPackagingJob, DescribeModelPackagingJob, ListModelPackagingJobs (AWS's edge packaging operations)."""

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from sdk._transport import api_path
from sdk.client import Client
from sdk.pagination import paginate
from sdk.resources._base import WireModel, client_token_header


class PackagingJob(WireModel):
    job_name: str
    project_name: str | None = None
    model_version: str | None = None
    model_packaging_job_description: str | None = None
    model_packaging_method: str | None = None
    model_packaging_configuration: dict[str, Any] | None = None
    model_packaging_output_details: dict[str, Any] | None = None
    status: str | None = None
    status_message: str | None = None
    creation_timestamp: datetime | None = None
    last_updated_timestamp: datetime | None = None


def _path(project_name: str, *segments: str) -> str:
    return api_path("projects", project_name, "modelpackagingjobs", *segments)


def start_packaging_job(
    client: Client,
    project_name: str,
    model_version: str,
    *,
    configuration: Mapping[str, Any],
    job_name: str | None = None,
    description: str | None = None,
) -> str:
    """Start packaging a model (the `Configuration` shape of StartModelPackagingJob); returns the job name."""
    body: dict[str, Any] = {"ModelVersion": model_version, "Configuration": dict(configuration)}
    if job_name is not None:
        body["JobName"] = job_name
    if description is not None:
        body["Description"] = description
    answer = client.request("POST", _path(project_name), json_body=body, headers=client_token_header())
    return str(answer["JobName"])


def describe_packaging_job(client: Client, project_name: str, job_name: str) -> PackagingJob:
    answer = client.request("GET", _path(project_name, job_name))
    return PackagingJob.model_validate(answer["ModelPackagingDescription"])


def list_packaging_jobs(client: Client, project_name: str, *, page_size: int | None = None) -> Iterator[PackagingJob]:
    def fetch(token: str | None) -> dict[str, Any]:
        return client.request("GET", _path(project_name), params={"nextToken": token, "maxResults": page_size})

    return paginate(fetch, "ModelPackagingJobs", PackagingJob.model_validate)

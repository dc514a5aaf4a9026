"""CreateProject, DescribeProject, ListProjects, DeleteProject."""

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from service.api.deps import ClientToken, Context, epoch
from service.api.pagination import page_request, page_response
from service.arns import project_arn
from service.db.engine import UnitOfWork, transaction
from service.db.models import Dataset, Project
from service.domain import projects, tags
from service.domain.idempotency import run_idempotent
from service.settings import Settings

router = APIRouter()


class CreateProjectRequest(BaseModel):
    ProjectName: str


def project_metadata(settings: Settings, project: Project) -> dict[str, Any]:
    return {
        "ProjectArn": project_arn(settings, project.name),
        "ProjectName": project.name,
        "CreationTimestamp": epoch(project.created_at),
    }


def dataset_metadata(dataset: Dataset) -> dict[str, Any]:
    return {
        "DatasetType": dataset.dataset_type,
        "CreationTimestamp": epoch(dataset.created_at),
        "Status": dataset.status,
        "StatusMessage": dataset.status_message,
    }


@router.post("/projects")
def create_project(body: CreateProjectRequest, context: Context, client_token: ClientToken = None) -> dict[str, Any]:
    return run_idempotent(
        context.engine,
        operation="CreateProject",
        client_token=client_token,
        parameters=body.model_dump(),
        produce=lambda work: {
            "ProjectMetadata": project_metadata(
                context.settings, projects.create_project(work.session, name=body.ProjectName)
            )
        },
    )


@router.get("/projects/{project_name}")
def describe_project(project_name: str, context: Context) -> dict[str, Any]:
    with transaction(context.engine) as session:
        project = projects.get_project(session, name=project_name)
        datasets = projects.project_datasets(session, project=project)
        return {
            "ProjectDescription": {
                **project_metadata(context.settings, project),
                "Datasets": [dataset_metadata(dataset) for dataset in datasets],
            }
        }


@router.get("/projects")
def list_projects(
    context: Context,
    next_token: str | None = Query(default=None, alias="nextToken"),
    max_results: int | None = Query(default=None, alias="maxResults"),
) -> dict[str, Any]:
    page = page_request(next_token, max_results, key="after")
    with transaction(context.engine) as session:
        rows = projects.list_projects(session, after_id=page.cursor or 0, limit=page.limit)
    return page_response(
        page,
        rows,
        items="Projects",
        shape=lambda row: project_metadata(context.settings, row),
        cursor_of=lambda row: row.id,
    )


@router.delete("/projects/{project_name}")
def delete_project(project_name: str, context: Context, client_token: ClientToken = None) -> dict[str, Any]:
    def produce(work: UnitOfWork) -> dict[str, Any]:
        arn = project_arn(context.settings, projects.delete_project(work.session, name=project_name).name)
        tags.delete_resource_tags(work.session, arn=arn)
        return {"ProjectArn": arn}

    return run_idempotent(
        context.engine,
        operation="DeleteProject",
        client_token=client_token,
        parameters={"ProjectName": project_name},
        produce=produce,
    )

"""CreateModel, DescribeModel, ListModels, DeleteModel (hosting operations live in `hosting.py`)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from service.api.deps import ClientToken, Context, epoch
from service.api.pagination import page_request, page_response
from service.arns import model_arn
from service.db.engine import UnitOfWork, transaction
from service.db.models import Model, Project
from service.domain import hosting, model_deletion, projects, shadow_traffic, tags, training_runs
from service.domain.algorithms import choose_training
from service.domain.evaluation import MANIFEST, RESULT, recorded_output
from service.domain.idempotency import run_idempotent
from service.domain.runtimes import check_runtime, model_runtime
from service.jobs.runner import JobRunner
from service.settings import Settings

router = APIRouter()


def get_jobs(request: Request) -> JobRunner:
    return request.app.state.jobs


Jobs = Annotated[JobRunner, Depends(get_jobs)]


class S3Location(BaseModel):
    Bucket: str = Field(min_length=3, max_length=63)
    Prefix: str = Field(default="", max_length=500)


class OutputConfig(BaseModel):
    S3Location: S3Location


class TagInput(BaseModel):
    Key: str
    Value: str


class CreateModelRequest(BaseModel):
    OutputConfig: OutputConfig
    Description: str = Field(default="", max_length=500)
    KmsKeyId: str | None = Field(default=None, max_length=2048)
    Tags: list[TagInput] = Field(default_factory=list)
    Algorithm: str | None = Field(default=None, max_length=64)
    Hyperparameters: dict[str, str] | None = None
    BackboneWeights: str | None = Field(default=None, min_length=1, max_length=1024)
    ImageSize: int | None = Field(default=None, ge=64, le=1024)
    TileSize: str | None = Field(default=None, pattern=r"^(auto|[0-9]{1,5})$")
    Runtime: str | None = None


def _arn(settings: Settings, project: Project, model: Model) -> str:
    return model_arn(settings, project.name, str(model.version))


def model_metadata(
    settings: Settings, project: Project, model: Model, status_message: str | None = None
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "CreationTimestamp": epoch(model.created_at),
        "ModelVersion": str(model.version),
        "ModelArn": _arn(settings, project, model),
        "Description": model.description,
        "Status": model.status,
        "StatusMessage": model.status_message if status_message is None else status_message,
        "Algorithm": model.algorithm,
    }
    if model.performance:
        metadata["Performance"] = model.performance
    return metadata


def model_description(settings: Settings, project: Project, model: Model, status_message: str) -> dict[str, Any]:
    description = {
        **model_metadata(settings, project, model, status_message),
        "OutputConfig": {"S3Location": {"Bucket": model.output_bucket, "Prefix": model.output_prefix}},
        "Hyperparameters": model.hyperparameters,
        "Runtime": model_runtime(model, settings),
    }
    if model.kms_key_id:
        description["KmsKeyId"] = model.kms_key_id
    if model.evaluation_end_at is not None:
        description["EvaluationEndTimestamp"] = epoch(model.evaluation_end_at)
        output = recorded_output(model)
        if output is None:
            bucket = settings.storage_bucket
            description["EvaluationManifest"] = {"Bucket": bucket, "Key": model.artifacts_prefix + MANIFEST}
            description["EvaluationResult"] = {"Bucket": bucket, "Key": model.artifacts_prefix + RESULT}
        else:
            description["EvaluationManifest"] = {"Bucket": output.bucket, "Key": output.manifest_key}
            description["EvaluationResult"] = {"Bucket": output.bucket, "Key": output.result_key}
    if model.min_inference_units is not None:
        description["MinInferenceUnits"] = model.min_inference_units
    if model.max_inference_units is not None:
        description["MaxInferenceUnits"] = model.max_inference_units
    return description


@router.post("/projects/{project_name}/models", status_code=202)
def create_model(
    project_name: str, body: CreateModelRequest, context: Context, jobs: Jobs, client_token: ClientToken = None
) -> dict[str, Any]:
    def produce(work: UnitOfWork) -> dict[str, Any]:
        choice = choose_training(
            algorithm=body.Algorithm,
            hyperparameters=body.Hyperparameters,
            backbone_weights=body.BackboneWeights,
            image_size=body.ImageSize,
            weights_dir=context.settings.resolved_weights_dir,
            tile_size=body.TileSize,
        )
        model, _ = training_runs.create_model(
            work,
            jobs,
            project_name=project_name,
            choice=choice,
            output=training_runs.OutputLocation(
                body.OutputConfig.S3Location.Bucket, body.OutputConfig.S3Location.Prefix
            ),
            store=context.store,
            description=body.Description,
            kms_key_id=body.KmsKeyId,
            runtime=check_runtime(body.Runtime),
        )
        project = work.session.get(Project, model.project_id)
        assert project is not None
        arn = _arn(context.settings, project, model)
        if body.Tags:
            pairs = [(t.Key, t.Value) for t in body.Tags]
            tags.tag_resource(work.session, settings=context.settings, arn=arn, tags=pairs)
        return {"ModelMetadata": model_metadata(context.settings, project, model)}

    return run_idempotent(
        context.engine,
        operation="CreateModel",
        client_token=client_token,
        parameters={"ProjectName": project_name, **body.model_dump()},
        produce=produce,
    )


@router.get("/projects/{project_name}/models/{model_version}")
def describe_model(project_name: str, model_version: str, context: Context, request: Request) -> dict[str, Any]:
    with transaction(context.engine) as session:
        model = training_runs.get_model(session, project_name=project_name, version=model_version)
        project = session.get(Project, model.project_id)
        assert project is not None
        (message,) = training_runs.status_messages(session, [model])
        description = model_description(context.settings, project, model, message)
        pair = shadow_traffic.pair_versions(session, model)
    if pair is not None:
        description["ShadowPair"] = {"LiveModelVersion": str(pair[0]), "ShadowModelVersion": str(pair[1])}
    units = hosting.current_units(request.app.state.hosting, model)
    if units is not None:
        description["CurrentInferenceUnits"] = units
    return {"ModelDescription": description}


@router.get("/projects/{project_name}/models")
def list_models(
    project_name: str,
    context: Context,
    next_token: str | None = Query(default=None, alias="nextToken"),
    max_results: int | None = Query(default=None, alias="maxResults"),
) -> dict[str, Any]:
    page = page_request(next_token, max_results, key="below")
    with transaction(context.engine) as session:
        rows = training_runs.list_models(
            session, project_name=project_name, after_version=page.cursor or 0, limit=page.limit
        )
        project = projects.get_project(session, name=project_name)
        messages = dict(zip((row.version for row in rows), training_runs.status_messages(session, rows), strict=True))
    return page_response(
        page,
        rows,
        items="Models",
        shape=lambda row: model_metadata(context.settings, project, row, messages[row.version]),
        cursor_of=lambda row: row.version,
    )


@router.delete("/projects/{project_name}/models/{model_version}", status_code=202)
def delete_model(
    project_name: str,
    model_version: str,
    context: Context,
    jobs: Jobs,
    request: Request,
    client_token: ClientToken = None,
) -> dict[str, Any]:
    return run_idempotent(
        context.engine,
        operation="DeleteModel",
        client_token=client_token,
        parameters={"ProjectName": project_name, "ModelVersion": model_version},
        produce=lambda work: {
            "ModelArn": model_deletion.delete_model(
                work, request.app.state.hosting, jobs, project_name=project_name, version=model_version
            )
        },
    )

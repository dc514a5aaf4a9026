"""Shadow mode (openlv extensions): StartShadowModel, DescribeShadowComparison, PromoteShadowModel, StopShadowModel and
SendShadowDisagreementsToReview. Thin translators (docs/api-extensions.md, "Shadow mode")."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from service.api.deps import ClientToken, Context, epoch
from service.api.lookoutvision.hosting import HostingService
from service.domain import shadow, shadow_comparison, shadow_review
from service.domain.idempotency import run_idempotent
from service.errors import ValidationException

router = APIRouter()
SHADOW = "/projects/{project_name}/models/{model_version}/shadow"
MAX_DISAGREEMENTS = 100


class StartShadowModelRequest(BaseModel):
    LiveModelVersion: str
    LiveProjectName: str | None = None
    SamplePercent: float = 100.0


class SendShadowDisagreementsToReviewRequest(BaseModel):
    MaxTasks: int = 100


def pair_json(described: shadow.ShadowPair) -> dict[str, Any]:
    pair = described.pair
    item: dict[str, Any] = {
        "ProjectName": described.project_name,
        "LiveModelVersion": str(described.live_version),
        "ShadowModelVersion": str(described.shadow_version),
        "SamplePercent": pair.sample_percent,
        "Status": pair.status,
        "Promotions": pair.promotions,
        "Dropped": pair.dropped,
        "Failed": pair.failed,
        "StartedAt": epoch(pair.started_at),
        "StartedBy": pair.started_by,
    }
    if pair.stopped_at is not None:
        item["StoppedAt"] = epoch(pair.stopped_at)
    return item


def caller_of(request: Request) -> str:
    return getattr(request.state, "access_key_id", "anonymous")


@router.post(SHADOW)
def start_shadow_model(
    project_name: str,
    model_version: str,
    body: StartShadowModelRequest,
    request: Request,
    context: Context,
    service: HostingService,
    client_token: ClientToken = None,
) -> dict[str, Any]:
    caller = caller_of(request)
    return run_idempotent(
        context.engine,
        operation="StartShadowModel",
        client_token=client_token,
        parameters={"ProjectName": project_name, "ModelVersion": model_version, **body.model_dump()},
        produce=lambda work: {
            "ShadowModel": pair_json(
                shadow.start_shadow_model(
                    work,
                    service,
                    project_name=project_name,
                    version=model_version,
                    live_version=body.LiveModelVersion,
                    live_project_name=body.LiveProjectName,
                    sample_percent=body.SamplePercent,
                    caller=caller,
                )
            )
        },
    )


@router.post(SHADOW + "/promote")
def promote_shadow_model(
    project_name: str, model_version: str, context: Context, service: HostingService, client_token: ClientToken = None
) -> dict[str, Any]:
    return run_idempotent(
        context.engine,
        operation="PromoteShadowModel",
        client_token=client_token,
        parameters={"ProjectName": project_name, "ModelVersion": model_version},
        produce=lambda work: {
            "ShadowModel": pair_json(
                shadow.promote_shadow_model(work, service, project_name=project_name, version=model_version)
            )
        },
    )


@router.post(SHADOW + "/stop")
def stop_shadow_model(
    project_name: str, model_version: str, context: Context, service: HostingService, client_token: ClientToken = None
) -> dict[str, Any]:
    def produce(work: Any) -> dict[str, Any]:
        described, status = shadow.stop_shadow_model(work, service, project_name=project_name, version=model_version)
        return {"ShadowModel": pair_json(described), "ShadowModelStatus": status}

    return run_idempotent(
        context.engine,
        operation="StopShadowModel",
        client_token=client_token,
        parameters={"ProjectName": project_name, "ModelVersion": model_version},
        produce=produce,
    )


def _answer_json(answer: shadow_comparison.Answer) -> dict[str, Any]:
    return {
        "ModelVersion": str(answer.model_version),
        "IsAnomalous": answer.is_anomalous,
        "Score": answer.score,
        "Confidence": answer.confidence,
        "LatencyMillis": answer.latency_ms,
    }


def _side_json(side: shadow_comparison.ModelSide) -> dict[str, Any]:
    item: dict[str, Any] = {
        "ModelVersion": str(side.model_version),
        "Anomalous": side.anomalous,
        "FalsePositives": side.false_positives,
        "FalseNegatives": side.false_negatives,
    }
    if side.latency_p50_ms is not None and side.latency_p99_ms is not None:
        item["LatencyP50Millis"], item["LatencyP99Millis"] = side.latency_p50_ms, side.latency_p99_ms
    return item


def _disagreement_json(item: shadow_comparison.ComparedDetection, bucket: str) -> dict[str, Any]:
    row = item.row
    found: dict[str, Any] = {
        "ResultId": str(row.id),
        "DetectedAt": epoch(row.detected_at),
        "Direction": "LIVE_ANOMALOUS" if item.live.is_anomalous else "SHADOW_ANOMALOUS",
        "Live": _answer_json(item.live),
        "Shadow": _answer_json(item.shadow),
        "ImageFormat": row.image_format,
        "ImageWidth": row.width,
        "ImageHeight": row.height,
    }
    if row.image_key is not None:
        found["Image"] = {"Bucket": bucket, "Key": row.image_key}
    if row.review_task_id is not None:
        found["ReviewTaskId"] = str(row.review_task_id)
    return found


@router.get(SHADOW)
async def describe_shadow_comparison(
    project_name: str,
    model_version: str,
    context: Context,
    service: HostingService,
    max_disagreements: Annotated[int, Query(alias="maxDisagreements")] = 20,
) -> dict[str, Any]:
    if not 0 <= max_disagreements <= MAX_DISAGREEMENTS:
        raise ValidationException(f"MaxDisagreements must be 0 to {MAX_DISAGREEMENTS}; got {max_disagreements}.")
    found = await run_in_threadpool(
        shadow_comparison.shadow_comparison,
        context.engine,
        service.runtime.shadows,
        project_name=project_name,
        version=model_version,
        max_disagreements=max_disagreements,
    )
    response: dict[str, Any] = {
        "ShadowModel": pair_json(found.described),
        "Compared": found.compared,
        "Agreeing": found.agreeing,
        "Disagreements": {"LiveAnomalous": found.live_only_anomalous, "ShadowAnomalous": found.shadow_only_anomalous},
        "Live": _side_json(found.live),
        "Shadow": _side_json(found.shadow),
        "Reviewed": found.reviewed,
        "DisagreementSamples": [_disagreement_json(item, context.store.bucket) for item in found.disagreements],
    }
    optional = {"AgreementRate": found.agreement_rate, "ScoreCorrelation": found.score_correlation}
    response.update({key: value for key, value in optional.items() if value is not None})
    return response


@router.post(SHADOW + "/review")
def send_shadow_disagreements_to_review(
    project_name: str,
    model_version: str,
    body: SendShadowDisagreementsToReviewRequest,
    context: Context,
    service: HostingService,
) -> dict[str, Any]:
    if not 1 <= body.MaxTasks <= 1000:
        raise ValidationException(f"MaxTasks must be 1 to 1000; got {body.MaxTasks}.")
    service.runtime.shadows.flush()  # the shadow results of requests already answered, as the comparison reads them
    sent = shadow_review.send_disagreements_to_review(
        context.engine, context.store, project_name=project_name, version=model_version, limit=body.MaxTasks
    )
    return {
        "TaskIds": [str(task_id) for task_id in sent.task_ids],
        "AlreadyInReview": sent.already_in_review,
        "WithoutImage": sent.without_image,
    }

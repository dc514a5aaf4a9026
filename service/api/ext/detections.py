"""ListDetections (openlv extension): the detections log of a project, newest first, with filters and pages."""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from service.api.deps import Context, epoch
from service.api.pagination import page_request, page_response
from service.db.engine import transaction
from service.db.models import Detection
from service.domain import detections
from service.domain.detections import DetectionFilter
from service.domain.training_runs import parse_version
from service.errors import ValidationException

router = APIRouter()


def detection_json(detection: Detection, bucket: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "DetectionId": str(detection.id),
        "ModelVersion": str(detection.model_version),
        "DetectedAt": epoch(detection.detected_at),
        "IsAnomalous": detection.is_anomalous,
        "Confidence": detection.confidence,
        "Score": detection.score,
        "Threshold": detection.threshold,
        "AnomalyArea": detection.anomaly_fraction,
        "LatencyMillis": detection.latency_ms,
        "ImageFormat": detection.image_format,
        "ImageWidth": detection.width,
        "ImageHeight": detection.height,
        "Caller": detection.caller,
    }
    if detection.image_key is not None:
        item["Image"] = {"Bucket": bucket, "Key": detection.image_key}
    return item


def _as_utc(value: datetime | None) -> datetime | None:
    """Times without a zone are UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


@router.get("/projects/{project_name}/detections")
async def list_detections(
    project_name: str,
    request: Request,
    context: Context,
    model_version: Annotated[str | None, Query(alias="modelVersion")] = None,
    start_time: Annotated[datetime | None, Query(alias="startTime")] = None,
    end_time: Annotated[datetime | None, Query(alias="endTime")] = None,
    anomalous_only: Annotated[bool, Query(alias="anomalousOnly")] = False,
    next_token: Annotated[str | None, Query(alias="nextToken")] = None,
    max_results: Annotated[int | None, Query(alias="maxResults")] = None,
) -> dict[str, Any]:
    page = page_request(next_token, max_results, key="before")
    if start_time is not None and end_time is not None and start_time >= end_time:
        raise ValidationException("StartTime must be before EndTime.")
    filters = DetectionFilter(
        model_version=parse_version(model_version) if model_version else None,
        start_time=_as_utc(start_time),
        end_time=_as_utc(end_time),
        anomalous_only=anomalous_only,
    )
    await run_in_threadpool(request.app.state.hosting.runtime.recorder.flush)

    def query() -> list[Detection]:
        with transaction(context.engine) as session:
            return detections.list_detections(
                session,
                project_name=project_name,
                filters=filters,
                before_id=page.cursor,
                limit=page.limit,
            )

    rows = await run_in_threadpool(query)
    bucket = context.store.bucket
    return page_response(
        page, rows, items="Detections", shape=lambda row: detection_json(row, bucket), cursor_of=lambda row: row.id
    )

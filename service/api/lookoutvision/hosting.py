"""StartModel, StopModel, DetectAnomalies."""

import base64
import time
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from service.api.deps import ClientToken, Context
from service.api.request_guard import RECEIVED_AT
from service.api.server_timing import HEADER, server_timing
from service.domain import hosting, quantisation
from service.domain.idempotency import run_idempotent
from service.domain.images import IMAGE_FORMATS
from service.domain.review.routing import RoutingOutcome
from service.hosting.backend import Prediction
from service.hosting.verdict import BACKGROUND_LABEL

router = APIRouter()


async def get_hosting(request: Request) -> hosting.Hosting:
    return request.app.state.hosting


HostingService = Annotated[hosting.Hosting, Depends(get_hosting)]


class StartModelRequest(BaseModel):
    MinInferenceUnits: int
    MaxInferenceUnits: int | None = None
    Runtime: str | None = None


@router.post("/projects/{project_name}/models/{model_version}/start", status_code=202)
def start_model(
    project_name: str,
    model_version: str,
    body: StartModelRequest,
    context: Context,
    service: HostingService,
    client_token: ClientToken = None,
) -> dict[str, Any]:
    runtime = quantisation.prepare_runtime(
        service, project_name=project_name, version=model_version, requested=body.Runtime
    )
    return run_idempotent(
        context.engine,
        operation="StartModel",
        client_token=client_token,
        parameters={"ProjectName": project_name, "ModelVersion": model_version, **body.model_dump()},
        produce=lambda work: {
            "Status": hosting.start_model(
                work,
                service,
                project_name=project_name,
                version=model_version,
                min_units=body.MinInferenceUnits,
                max_units=body.MaxInferenceUnits,
                runtime=runtime,
            )
        },
    )


@router.post("/projects/{project_name}/models/{model_version}/stop", status_code=202)
def stop_model(
    project_name: str, model_version: str, context: Context, service: HostingService, client_token: ClientToken = None
) -> dict[str, Any]:
    return run_idempotent(
        context.engine,
        operation="StopModel",
        client_token=client_token,
        parameters={"ProjectName": project_name, "ModelVersion": model_version},
        produce=lambda work: {
            "Status": hosting.stop_model(work, service, project_name=project_name, version=model_version)
        },
    )


DETECT_REQUEST_DOCS: dict[str, Any] = {
    "parameters": [{"name": "content-type", "in": "header", "required": True, "schema": {"type": "string"}}],
    "requestBody": {
        "required": True,
        "content": {
            content_type: {"schema": {"type": "string", "format": "binary"}}
            for content_type in (image_format.content_type for image_format in IMAGE_FORMATS.values())
        },
    },
}
"""What the handler reads itself (the Content-Type header and the image body), described for the OpenAPI document."""


@router.post(
    "/projects/{project_name}/models/{model_version}/detect", response_model=None, openapi_extra=DETECT_REQUEST_DOCS
)
async def detect_anomalies(project_name: str, model_version: str, request: Request) -> Response:
    """Served on the event loop (no thread hop), answered with orjson and a Server-Timing header of its stages
    (`receive`: from the request guard to here, auth aside: the body's arrival, routing and dependencies).

    The hot path of the service: the handler takes the request itself and reads its body, header and hosting
    runtime directly, so FastAPI solves no dependency per call but the router's signature check. Once it has its answer,
    the loop stays awake for the client's next image (`BusyPoll`)."""
    body = await request.body()
    service: hosting.Hosting = request.app.state.hosting
    content_type = request.headers.get("content-type", "")
    handled = time.perf_counter()
    auth = getattr(request.state, "auth_seconds", 0.0)
    receive = max(0.0, handled - getattr(request.state, RECEIVED_AT, handled) - auth)
    with request.app.state.busy_poll.serving():
        detected = await hosting.detect_anomalies(
            service,
            project_name=project_name,
            version=model_version,
            body=body,
            content_type=content_type,
            caller=getattr(request.state, "access_key_id", "anonymous"),
        )
    answered = time.perf_counter()
    response: dict[str, Any] = {"DetectAnomalyResult": detect_anomaly_result(detected.prediction)}
    if detected.review is not None:
        response["HumanReview"] = human_review(detected.review)
    content = orjson.dumps(response)
    stages = {"receive": receive, "auth": auth, **detected.stages}
    stages["response"] = time.perf_counter() - answered
    return Response(content, media_type="application/json", headers={HEADER: server_timing(stages)})


def human_review(outcome: RoutingOutcome) -> dict[str, Any]:
    """openlv's extension member of the reply: whether the detection went to a reviewer, and why (or why not)."""
    review: dict[str, Any] = {"Routed": outcome.routed, "Reason": outcome.reason}
    if outcome.task_id is not None:
        review["TaskId"] = str(outcome.task_id)
    return review


def detect_anomaly_result(prediction: Prediction) -> dict[str, Any]:
    """Lookout for Vision's DetectAnomalyResult: `background` first, then each class the mask shows (the model's
    classes with their manifest colours, or `anomaly` for a model trained without classes)."""
    anomalies = [
        {
            "Name": BACKGROUND_LABEL,
            "PixelAnomaly": {
                "TotalPercentageArea": 1.0 - prediction.anomaly_fraction,
                "Color": prediction.background_color,
            },
        }
    ]
    anomalies += [
        {
            "Name": found.name,
            "PixelAnomaly": {"TotalPercentageArea": found.area_percentage / 100.0, "Color": found.color},
        }
        for found in prediction.anomalies
    ]
    return {
        "Source": {"Type": "direct"},
        "IsAnomalous": prediction.is_anomalous,
        "Confidence": prediction.confidence,
        "Anomalies": anomalies,
        "AnomalyMask": base64.b64encode(prediction.mask_png).decode(),
    }

"""Shadow mode (openlv extensions): a candidate model version answering the live traffic in the shadow of the live one,
the comparison of their answers, promotion (and roll back) and stop. Reached through `Model` methods."""

from datetime import datetime
from typing import Any

from pydantic import Field

from sdk._transport import api_path
from sdk.client import Client
from sdk.resources._base import WireModel, client_token_header


class ShadowPair(WireModel):
    """Two hosted model versions of a project: the live one answers, the shadow one's answers are recorded."""

    project_name: str
    live_model_version: str
    shadow_model_version: str
    sample_percent: float
    status: str
    promotions: int = 0
    dropped: int = 0
    """Shadow runs skipped because the live model was busy or the shadow's queue full."""
    failed: int = 0
    started_at: datetime | None = None
    started_by: str | None = None
    stopped_at: datetime | None = None


class ShadowAnswer(WireModel):
    model_version: str
    is_anomalous: bool
    score: float
    confidence: float
    latency_millis: float


class ShadowModelSide(WireModel):
    """What one model of the pair answered, and its would-be mistakes on reviewed detections."""

    model_version: str
    anomalous: int
    false_positives: int
    false_negatives: int
    latency_p50_millis: float | None = None
    latency_p99_millis: float | None = None


class ShadowDisagreements(WireModel):
    live_anomalous: int
    shadow_anomalous: int


class ShadowDisagreement(WireModel):
    result_id: str
    detected_at: datetime
    direction: str
    """LIVE_ANOMALOUS or SHADOW_ANOMALOUS: which model called the image anomalous."""
    live: ShadowAnswer
    shadow: ShadowAnswer
    image_format: str | None = None
    image_width: int | None = None
    image_height: int | None = None
    image: dict[str, str] | None = None
    """Where the service keeps the image (`Bucket`, `Key`)."""
    review_task_id: str | None = None


class ShadowComparison(WireModel):
    shadow_model: ShadowPair
    compared: int
    agreeing: int
    agreement_rate: float | None = None
    disagreements: ShadowDisagreements
    score_correlation: float | None = None
    live: ShadowModelSide
    shadow: ShadowModelSide
    reviewed: int = 0
    disagreement_samples: list[ShadowDisagreement] = Field(default_factory=list)


class ShadowReviewBatch(WireModel):
    task_ids: list[str]
    already_in_review: int
    without_image: int


def _path(project_name: str, version: str, *segments: str) -> str:
    return api_path("projects", project_name, "models", version, "shadow", *segments)


def start_shadow(
    client: Client,
    project_name: str,
    version: str,
    *,
    live_version: str,
    live_project_name: str | None = None,
    sample_percent: float = 100.0,
) -> ShadowPair:
    body: dict[str, Any] = {"LiveModelVersion": live_version, "SamplePercent": sample_percent}
    if live_project_name is not None:
        body["LiveProjectName"] = live_project_name
    answer = client.request("POST", _path(project_name, version), json_body=body, headers=client_token_header())
    return ShadowPair.model_validate(answer["ShadowModel"])


def describe_comparison(
    client: Client, project_name: str, version: str, *, max_disagreements: int | None = None
) -> ShadowComparison:
    params = {"maxDisagreements": max_disagreements}
    return ShadowComparison.model_validate(client.request("GET", _path(project_name, version), params=params))


def promote(client: Client, project_name: str, version: str) -> ShadowPair:
    answer = client.request("POST", _path(project_name, version, "promote"), headers=client_token_header())
    return ShadowPair.model_validate(answer["ShadowModel"])


def stop(client: Client, project_name: str, version: str) -> tuple[ShadowPair, str]:
    answer = client.request("POST", _path(project_name, version, "stop"), headers=client_token_header())
    return ShadowPair.model_validate(answer["ShadowModel"]), str(answer["ShadowModelStatus"])


def send_to_review(client: Client, project_name: str, version: str, *, max_tasks: int = 100) -> ShadowReviewBatch:
    answer = client.request("POST", _path(project_name, version, "review"), json_body={"MaxTasks": max_tasks})
    return ShadowReviewBatch.model_validate(answer)

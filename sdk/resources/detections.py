"""ListDetections (openlv extension): the log of DetectAnomalies calls of a project, newest first."""

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sdk._transport import api_path
from sdk.client import Client
from sdk.pagination import paginate
from sdk.resources._base import WireModel


class Detection(WireModel):
    detection_id: str
    model_version: str
    detected_at: datetime
    is_anomalous: bool
    confidence: float
    score: float | None = None
    threshold: float | None = None
    anomaly_area: float | None = None
    latency_millis: float | None = None
    image_format: str | None = None
    image_width: int | None = None
    image_height: int | None = None
    caller: str | None = None
    image: dict[str, str] | None = None
    """Where the service kept the image (`Bucket`, `Key`), when it keeps them."""


def list_detections(
    client: Client,
    project_name: str,
    *,
    model_version: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    anomalous_only: bool = False,
    page_size: int | None = None,
) -> Iterator[Detection]:
    """Detections newest first; `since`/`until` bound DetectedAt (naive datetimes are UTC)."""
    params: dict[str, Any] = {
        "modelVersion": model_version,
        "startTime": since,
        "endTime": until,
        "anomalousOnly": anomalous_only or None,
        "maxResults": page_size,
    }

    def fetch(token: str | None) -> dict[str, Any]:
        return client.request(
            "GET", api_path("projects", project_name, "detections"), params={**params, "nextToken": token}
        )

    return paginate(fetch, "Detections", Detection.model_validate)

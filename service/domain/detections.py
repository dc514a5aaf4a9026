"""The detections log: one record per DetectAnomalies call, listed with filters; images kept for a retention period."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.db.engine import transaction
from service.db.models import Detection, Model, utcnow
from service.domain.images import IMAGE_FORMATS
from service.domain.projects import get_project
from service.storage import ObjectStore

IMAGE_PREFIX = "detections/"


@dataclass(frozen=True)
class DetectionRecord:
    """What the hosting path hands over after answering a request."""

    model_id: int
    model_version: int
    detected_at: datetime
    is_anomalous: bool
    score: float
    threshold: float
    confidence: float
    anomaly_fraction: float
    latency_ms: float
    image: bytes
    image_format: str
    width: int
    height: int
    caller: str


def image_key(record: DetectionRecord) -> str:
    """Images live under one folder per UTC day, so expired days are removed without reading the log."""
    return (
        f"{IMAGE_PREFIX}{record.detected_at:%Y-%m-%d}/{uuid.uuid4().hex}.{IMAGE_FORMATS[record.image_format].extension}"
    )


def save_detections(
    engine: Engine, store: ObjectStore, records: Sequence[DetectionRecord], *, retention_days: int
) -> None:
    """Store the images (unless retention is 0) and insert the rows in one transaction, as one multi-row INSERT:
    building an ORM object per detection cost more CPU than the insert itself."""
    rows = []
    for record in records:
        key = None
        if retention_days > 0:
            key = image_key(record)
            store.put(key, record.image, IMAGE_FORMATS[record.image_format].content_type)
        rows.append(
            {
                "model_id": record.model_id,
                "model_version": record.model_version,
                "detected_at": record.detected_at,
                "is_anomalous": record.is_anomalous,
                "score": record.score,
                "threshold": record.threshold,
                "confidence": record.confidence,
                "anomaly_fraction": record.anomaly_fraction,
                "latency_ms": record.latency_ms,
                "image_key": key,
                "image_bytes": len(record.image) if key else 0,
                "image_format": record.image_format,
                "width": record.width,
                "height": record.height,
                "caller": record.caller,
            }
        )
    with transaction(engine) as session:
        existing = set(session.exec(select(Model.id).where(col(Model.id).in_({row["model_id"] for row in rows}))))
        kept = [row for row in rows if row["model_id"] in existing]
        if kept:
            session.execute(insert(Detection), kept)


@dataclass(frozen=True)
class DetectionFilter:
    model_version: int | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    anomalous_only: bool = False


def list_detections(
    session: Session, *, project_name: str, filters: DetectionFilter, before_id: int | None, limit: int
) -> list[Detection]:
    """Newest first, starting below `before_id`; one more than `limit` tells whether a next page exists."""
    project = get_project(session, name=project_name)
    query = (
        select(Detection).join(Model, col(Model.id) == col(Detection.model_id)).where(Model.project_id == project.id)
    )
    if filters.model_version is not None:
        query = query.where(Detection.model_version == filters.model_version)
    if filters.start_time is not None:
        query = query.where(col(Detection.detected_at) >= filters.start_time)
    if filters.end_time is not None:
        query = query.where(col(Detection.detected_at) < filters.end_time)
    if filters.anomalous_only:
        query = query.where(col(Detection.is_anomalous).is_(True))
    if before_id is not None:
        query = query.where(col(Detection.id) < before_id)
    return list(session.exec(query.order_by(col(Detection.id).desc()).limit(limit + 1)))


def retention_cutoff(retention_days: int, now: datetime | None = None) -> datetime:
    """The start of the oldest UTC day whose detection images are kept."""
    expiry = (now or utcnow()) - timedelta(days=retention_days)
    return datetime(expiry.year, expiry.month, expiry.day, tzinfo=UTC)


def purge_expired_images(
    engine: Engine, store: ObjectStore, *, retention_days: int, now: datetime | None = None
) -> int:
    """Delete images of days past the retention and forget their keys; returns how many objects were deleted.

    Retention counts whole UTC days: images of the day `retention_days` ago and later are kept."""
    cutoff = retention_cutoff(retention_days, now)
    oldest_kept_day = f"{IMAGE_PREFIX}{cutoff:%Y-%m-%d}/"
    expired = [key for key in store.list(IMAGE_PREFIX) if key[: len(oldest_kept_day)] < oldest_kept_day]
    for key in expired:
        store.delete(key)
    with transaction(engine) as session:
        session.execute(
            update(Detection)
            .where(col(Detection.detected_at) < cutoff, col(Detection.image_key).is_not(None))
            .values(image_key=None)
        )
    return len(expired)

"""Shadow disagreements keep the image, the live model's mask and its anomaly map under `shadow/` (for review). They
are detection images, so they go when the detections log's images do (whole UTC days, `LV_DETECTION_RETENTION_DAYS`);
the rows and verdicts stay for the comparison. A disagreement sent to review has its own copies under `review/`, kept
by the task's retention."""

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from service.db.engine import transaction
from service.db.models import ShadowResult
from service.domain.detections import retention_cutoff
from service.storage import ObjectStore, delete_quietly

_ROWS_PER_PASS = 500
"""Rows whose objects are deleted per pass, so that a long backlog never loads at once."""


def purge_expired_shadow_objects(
    engine: Engine, store: ObjectStore, *, retention_days: int, now: datetime | None = None
) -> int:
    """Delete the objects of disagreements detected before the retention cutoff and forget their keys; returns how
    many objects were deleted."""
    cutoff = retention_cutoff(retention_days, now)
    deleted = 0
    while True:
        with transaction(engine) as session:
            rows = session.exec(
                select(ShadowResult.id, ShadowResult.image_key, ShadowResult.mask_key, ShadowResult.anomaly_map_key)
                .where(col(ShadowResult.detected_at) < cutoff, col(ShadowResult.image_key).is_not(None))
                .order_by(col(ShadowResult.id))
                .limit(_ROWS_PER_PASS)
            ).all()
        if not rows:
            return deleted
        keys = [key for _, *row_keys in rows for key in row_keys if key]
        delete_quietly(store, keys)
        deleted += len(keys)
        with transaction(engine) as session:
            session.execute(
                update(ShadowResult)
                .where(col(ShadowResult.id).in_([row[0] for row in rows]))
                .values(image_key=None, mask_key=None, anomaly_map_key=None)
            )

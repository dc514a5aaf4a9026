"""A byte cap on the detected images kept in storage, beside the day-based retention: beyond it the oldest go first.

The total is read from the detections log once, then kept up to date as batches are saved (one writer thread per
process calls `after_save`), so a save costs no scan of the log. Pruning deletes the image and forgets its key; the
detection record itself stays, as it does when retention ends. This module never writes detection records.
"""

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from service.db.engine import transaction
from service.db.models import Detection
from service.storage import ObjectStore

_PRUNE_BATCH = 500


def stored_image_bytes(engine: Engine) -> int:
    with transaction(engine) as session:
        total = session.exec(select(func.sum(Detection.image_bytes)).where(col(Detection.image_key).is_not(None))).one()
    return int(total or 0)


def prune_oldest(engine: Engine, store: ObjectStore, *, used: int, max_bytes: int) -> int:
    """Delete the oldest detected images until at most `max_bytes` remain; the bytes that remain."""
    while used > max_bytes:
        with transaction(engine) as session:
            oldest = session.exec(
                select(Detection.id, Detection.image_key, Detection.image_bytes)
                .where(col(Detection.image_key).is_not(None))
                .order_by(col(Detection.id))
                .limit(_PRUNE_BATCH)
            ).all()
        if not oldest:
            return 0
        pruned = []
        for detection_id, key, size in oldest:
            if used <= max_bytes:
                break
            assert key is not None
            store.delete(key)
            pruned.append(detection_id)
            used -= size
        with transaction(engine) as session:
            session.execute(update(Detection).where(col(Detection.id).in_(pruned)).values(image_key=None))
    return used


class DetectionImageQuota:
    def __init__(self, engine: Engine, store: ObjectStore, *, max_bytes: int) -> None:
        self.engine = engine
        self.store = store
        self.max_bytes = max_bytes
        self._used: int | None = None

    def after_save(self, added_bytes: int) -> None:
        """Account for newly stored images and prune the oldest if the cap is passed."""
        if self.max_bytes == 0:
            return
        self._used = stored_image_bytes(self.engine) if self._used is None else self._used + added_bytes
        if self._used > self.max_bytes:
            self._used = prune_oldest(self.engine, self.store, used=self._used, max_bytes=self.max_bytes)

"""A review task's objects in storage: the image, the anomaly map, the model's mask and reviewers' masks.

They live under `review/`, apart from the detections log (`detections/`), so the log's retention never removes them:
a task keeps them while it is open and for the retention period after it ends (COMPLETED or EXPIRED). The heatmap is
drawn on demand from the stored anomaly map (16-bit PNG at the model's resolution), laid over the image.
"""

import io
import uuid
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import datetime, timedelta

import numpy as np
from PIL import Image
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from service.db.engine import transaction
from service.db.models import ReviewAction, ReviewTask, utcnow
from service.storage import ObjectStore, delete_quietly

PREFIX = "review/"
_EXTENSIONS = {"png": "png", "jpeg": "jpg"}
_CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg"}
_UINT16_MAX = 65535
# A blue -> cyan -> green -> yellow -> red ramp over normalised anomaly scores; 0.5 (the pixel threshold) is green.
_RAMP_AT = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
_RAMP_RGB = np.array([[0, 0, 255], [0, 255, 255], [0, 255, 0], [255, 255, 0], [255, 0, 0]], dtype=np.float32)
_OVERLAY_ALPHA = 0.45
_WRITERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="lv-review-objects")


def task_folder(project_id: int) -> str:
    return f"{PREFIX}{project_id}/{uuid.uuid4().hex}/"


def image_name(image_format: str) -> str:
    return f"image.{_EXTENSIONS[image_format]}"


def content_type(image_format: str) -> str:
    return _CONTENT_TYPES[image_format]


def encode_anomaly_map(anomaly_map: np.ndarray) -> bytes:
    """The map, clipped to [0, 1], as a lossless 16-bit grayscale PNG."""
    values = np.clip(np.squeeze(np.asarray(anomaly_map, dtype=np.float32)), 0.0, 1.0)
    image = Image.fromarray(np.round(values * _UINT16_MAX).astype(np.uint16))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def decode_anomaly_map(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image, dtype=np.float32) / _UINT16_MAX


def heatmap_png(image_bytes: bytes, anomaly_map_png: bytes) -> bytes:
    """The anomaly map, coloured and resized to the image, laid over the image; a PNG of the image's size."""
    with Image.open(io.BytesIO(image_bytes)) as source:
        picture = np.asarray(source.convert("RGB"), dtype=np.float32)
    height, width = picture.shape[:2]
    values = Image.fromarray(decode_anomaly_map(anomaly_map_png)).resize((width, height), Image.Resampling.BILINEAR)
    scores = np.clip(np.asarray(values, dtype=np.float32), 0.0, 1.0)
    colours = np.stack([np.interp(scores, _RAMP_AT, _RAMP_RGB[:, channel]) for channel in range(3)], axis=-1)
    blended = (1 - _OVERLAY_ALPHA) * picture + _OVERLAY_ALPHA * colours
    buffer = io.BytesIO()
    Image.fromarray(np.clip(blended, 0, 255).astype(np.uint8)).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def put_all(store: ObjectStore, objects: dict[str, tuple[bytes, str]]) -> None:
    """Write a task's objects side by side (each put syncs to disk; together they take one sync's time)."""
    futures = [_WRITERS.submit(store.put, key, data, kind) for key, (data, kind) in objects.items()]
    wait(futures)
    for future in futures:
        future.result()


_TASKS_PER_PASS = 500
"""Tasks whose objects are deleted per pass, so that a long backlog never loads at once."""


def purge_finished_tasks(
    engine: Engine, store: ObjectStore, *, retention_days: int, now: datetime | None = None
) -> int:
    """Delete the objects of tasks that ended more than `retention_days` ago and forget their keys; returns how many
    objects were deleted. The rows, verdicts and statistics stay."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    deleted = 0
    while True:
        with transaction(engine) as session:
            tasks = session.exec(
                select(ReviewTask.id, ReviewTask.image_key, ReviewTask.anomaly_map_key, ReviewTask.mask_key)
                .where(col(ReviewTask.ended_at) < cutoff, col(ReviewTask.image_key).is_not(None))
                .order_by(col(ReviewTask.id))
                .limit(_TASKS_PER_PASS)
            ).all()
            task_ids = [task[0] for task in tasks]
            masks = session.exec(
                select(ReviewAction.mask_key).where(
                    col(ReviewAction.task_id).in_(task_ids), col(ReviewAction.mask_key).is_not(None)
                )
            ).all()
        if not tasks:
            return deleted
        keys = [key for _, *task_keys in tasks for key in task_keys if key] + [key for key in masks if key]
        delete_quietly(store, keys)
        deleted += len(keys)
        with transaction(engine) as session:
            session.execute(
                update(ReviewTask)
                .where(col(ReviewTask.id).in_(task_ids))
                .values(image_key=None, anomaly_map_key=None, mask_key=None, human_mask_key=None)
            )
            session.execute(update(ReviewAction).where(col(ReviewAction.task_id).in_(task_ids)).values(mask_key=None))

"""Review tasks written straight into a live server's database and storage, for queue tests without a hosted model."""

import io
from datetime import timedelta

import numpy as np
from PIL import Image
from sqlmodel import select

from service.db.engine import transaction
from service.db.models import Model, Project, ReviewTask, utcnow
from service.domain.review import media
from tests.helpers.live_server import LiveServer

SIZE = 64


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def task_image(index: int) -> bytes:
    pixels = np.full((SIZE, SIZE, 3), 90, dtype=np.uint8)
    pixels[0, 0] = [index % 256, index // 256, 3]
    return png(pixels)


def seed_tasks(
    server: LiveServer,
    project: str,
    scores: list[float],
    *,
    sampled: set[int] = frozenset(),  # type: ignore[assignment]
    threshold: float = 0.5,
    lease_seconds: int = 300,
    required_reviews: int = 1,
    ttl: timedelta = timedelta(days=7),
) -> list[str]:
    """A project with model 1 and one PENDING task per score (index in `sampled`: an audit); their TaskIds."""
    context = server.context
    ids = []
    with transaction(context.engine) as session:
        project_row = session.exec(select(Project).where(Project.name == project)).first()
        if project_row is None:
            project_row = Project(name=project)
            session.add(project_row)
            session.flush()
        assert project_row.id is not None
        model = session.exec(select(Model).where(Model.project_id == project_row.id)).first()
        if model is None:
            model = Model(
                project_id=project_row.id, version=1, status="TRAINED", algorithm="padim", artifacts_prefix="none/"
            )
            session.add(model)
            session.flush()
        assert model.id is not None
        now = utcnow()
        for index, score in enumerate(scores):
            folder = media.task_folder(project_row.id)
            image = task_image(index)
            context.store.put(folder + "image.png", image, "image/png")
            anomaly_map = np.full((8, 8), score, dtype=np.float32)
            context.store.put(folder + "anomaly_map.png", media.encode_anomaly_map(anomaly_map), "image/png")
            context.store.put(folder + "mask.png", png(np.zeros((SIZE, SIZE), dtype=np.uint8)), "image/png")
            is_anomalous = score >= threshold
            confidence = 0.5 + 0.5 * abs(score - threshold) / (1 - threshold if is_anomalous else threshold)
            task = ReviewTask(
                project_id=project_row.id,
                model_id=model.id,
                model_version=1,
                reason="SAMPLED" if index in sampled else "LOW_CONFIDENCE",
                sampled=index in sampled,
                status="PENDING",
                priority=abs(score - threshold),
                detected_at=now,
                created_at=now,
                expires_at=now + ttl,
                is_anomalous=is_anomalous,
                confidence=confidence,
                score=score,
                threshold=threshold,
                anomaly_fraction=0.0,
                image_key=folder + "image.png",
                image_format="png",
                width=SIZE,
                height=SIZE,
                anomaly_map_key=folder + "anomaly_map.png",
                mask_key=folder + "mask.png",
                required_reviews=required_reviews,
                lease_seconds=lease_seconds,
            )
            session.add(task)
            session.flush()
            ids.append(str(task.id))
    return ids

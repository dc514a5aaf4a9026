"""Detected images have a byte cap beside the retention days; the oldest go first (finding 12)."""

from datetime import timedelta

from sqlmodel import col, select

from service.db.engine import transaction
from service.db.models import Detection, Model, Project, utcnow
from service.domain.detection_quota import DetectionImageQuota
from service.domain.detections import DetectionRecord, save_detections
from tests.helpers.data import png_bytes
from tests.helpers.live_server import LiveServer


def model_row(server: LiveServer, project_name: str) -> Model:
    with transaction(server.context.engine) as session:
        project = Project(name=project_name)
        session.add(project)
        session.flush()
        model = Model(
            project_id=project.id, version=1, status="HOSTED", algorithm="patchcore", artifacts_prefix="quota-test/"
        )
        session.add(model)
        session.flush()
        return model


def record(model: Model, image: bytes, at_minute: int) -> DetectionRecord:
    return DetectionRecord(
        model_id=model.id,
        model_version=1,
        detected_at=utcnow() - timedelta(minutes=60 - at_minute),
        is_anomalous=False,
        score=0.1,
        threshold=0.5,
        confidence=0.9,
        anomaly_fraction=0.0,
        latency_ms=1.0,
        image=image,
        image_format="png",
        width=64,
        height=64,
        caller="test",
    )


def test_the_oldest_images_go_first_once_the_cap_is_passed(server: LiveServer, project_name: str) -> None:
    engine, store = server.context.engine, server.context.store
    model = model_row(server, project_name)
    images = [png_bytes((64, 64), seed=500 + index) for index in range(5)]
    cap = sum(len(image) for image in images[2:])
    quota = DetectionImageQuota(engine, store, max_bytes=cap + stored_elsewhere(server, model))
    for minute, image in enumerate(images):
        save_detections(engine, store, [record(model, image, minute)], retention_days=30)
        quota.after_save(len(image))
    with transaction(engine) as session:
        rows = list(session.exec(select(Detection).where(Detection.model_id == model.id).order_by(col(Detection.id))))
    assert len(rows) == 5  # the records stay; only images go
    assert [row.image_key is not None for row in rows] == [False, False, True, True, True]
    assert all(store.exists(row.image_key) for row in rows if row.image_key)
    assert sum(row.image_bytes for row in rows if row.image_key) <= cap


def stored_elsewhere(server: LiveServer, model: Model) -> int:
    """Bytes of images other tests' detections keep on the shared server (the cap counts every model's)."""
    with transaction(server.context.engine) as session:
        sizes = session.exec(
            select(Detection.image_bytes).where(col(Detection.image_key).is_not(None), Detection.model_id != model.id)
        ).all()
    return sum(sizes)

"""The request-path side of shadow mode: which model answers a DetectAnomalies call, handing its copy to the shadow,
and writing both results (off the request path, by the shadow runner's recorder).

While a pair runs, a request addressed to either of its versions is answered by the live one; the shadow's answer is
recorded beside it and never returned. The routes live in memory (`service.hosting.shadow.ShadowRunner`), loaded at
start and changed after each StartShadowModel, PromoteShadowModel and StopShadowModel commits, so an unpaired request
pays one dict lookup. Disagreements keep the image, the live model's mask and anomaly map under `shadow/` (for review).
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.db.engine import transaction
from service.db.models import Model, ShadowModel, ShadowResult, utcnow
from service.domain.deployment_keys import model_deployment_key
from service.domain.detections import DetectionRecord
from service.domain.review import media
from service.domain.review.routing import RoutingOutcome
from service.errors import ConflictException
from service.hosting.backend import InferenceRequest, Prediction
from service.hosting.shadow import ShadowRoute, ShadowRunner
from service.storage import ObjectStore

ACTIVE, STOPPED = "ACTIVE", "STOPPED"
PREFIX = "shadow/"


@dataclass(frozen=True)
class ShadowPlan:
    """What a request addressed to a paired model needs to hand its copy over: the route and the shadow's threshold."""

    route: ShadowRoute
    shadow_version: int
    shadow_threshold: float


@dataclass(frozen=True)
class ShadowRecord:
    """Both answers to one detection; the image and the live mask and map travel only when the verdicts differ."""

    shadow_id: int
    detected_at: datetime
    caller: str
    live_model_id: int
    live_version: int
    live: Prediction
    live_threshold: float
    live_latency_ms: float
    shadow_model_id: int
    shadow_version: int
    shadow: Prediction
    shadow_threshold: float
    shadow_latency_ms: float
    image_format: str
    width: int
    height: int
    image: bytes | None
    review_task_id: int | None

    @property
    def agrees(self) -> bool:
        return self.live.is_anomalous == self.shadow.is_anomalous


def route_of(pair: ShadowModel) -> ShadowRoute:
    assert pair.id is not None
    return ShadowRoute(
        shadow_id=pair.id,
        live_model_id=pair.live_model_id,
        shadow_model_id=pair.shadow_model_id,
        live_key=model_deployment_key(pair.live_model_id),
        shadow_key=model_deployment_key(pair.shadow_model_id),
        sample_percent=pair.sample_percent,
    )


def sync_route(session: Session, runner: ShadowRunner[ShadowRecord], model: Model) -> None:
    """Make this process's route for `model` the one the database holds: another API replica may have started,
    promoted or stopped its pair."""
    assert model.id is not None
    pair, current = running_pair(session, model), runner.route(model.id)
    if pair is None:
        if current is not None:
            runner.remove_route(current.shadow_id)
        return
    route = route_of(pair)
    if current != route:
        runner.set_route(route)


def answering_model(
    session: Session, runner: ShadowRunner[ShadowRecord], model: Model
) -> tuple[Model, ShadowPlan | None]:
    """The model that answers a request addressed to `model` (its route first brought up to date with the database),
    and the shadow's part when it is paired."""
    assert model.id is not None
    sync_route(session, runner, model)
    route = runner.route(model.id)
    if route is None:
        return model, None
    live = model if model.id == route.live_model_id else session.get(Model, route.live_model_id)
    shadow = session.get(Model, route.shadow_model_id)
    if live is None or shadow is None:
        return model, None
    return live, ShadowPlan(route=route, shadow_version=shadow.version, shadow_threshold=shadow.image_threshold)


def observe(
    runner: ShadowRunner[ShadowRecord],
    plan: ShadowPlan | None,
    *,
    record: DetectionRecord,
    pixels: np.ndarray,
    prediction: Prediction,
    review: RoutingOutcome | None,
) -> None:
    """After the live answer: hand the shadow its copy (never waits; see `ShadowRunner.run`)."""
    if plan is None:
        return

    def result(shadow: Prediction, latency_ms: float) -> ShadowRecord:
        differ = shadow.is_anomalous != prediction.is_anomalous
        return ShadowRecord(
            shadow_id=plan.route.shadow_id,
            detected_at=record.detected_at,
            caller=record.caller,
            live_model_id=record.model_id,
            live_version=record.model_version,
            live=prediction,
            live_threshold=record.threshold,
            live_latency_ms=record.latency_ms,
            shadow_model_id=plan.route.shadow_model_id,
            shadow_version=plan.shadow_version,
            shadow=shadow,
            shadow_threshold=plan.shadow_threshold,
            shadow_latency_ms=latency_ms,
            image_format=record.image_format,
            width=record.width,
            height=record.height,
            image=record.image if differ else None,
            review_task_id=review.task_id if review is not None else None,
        )

    runner.run(plan.route, InferenceRequest(pixels, plan.shadow_threshold), result)


@dataclass(frozen=True)
class KeptObjects:
    """Where a disagreement's (or its review task's) image, mask and anomaly map are stored."""

    image_key: str | None = None
    mask_key: str | None = None
    anomaly_map_key: str | None = None


def keep_objects(
    store: ObjectStore, folder: str, *, image: bytes, image_format: str, mask: bytes, anomaly_map: bytes | None
) -> KeptObjects:
    """Write the image, mask and (when there is one) the encoded anomaly map under `folder`, side by side."""
    kept = KeptObjects(
        image_key=folder + media.image_name(image_format),
        mask_key=folder + "mask.png",
        anomaly_map_key=folder + "anomaly_map.png" if anomaly_map is not None else None,
    )
    assert kept.image_key is not None and kept.mask_key is not None
    objects = {kept.image_key: (image, media.content_type(image_format)), kept.mask_key: (mask, "image/png")}
    if kept.anomaly_map_key is not None and anomaly_map is not None:
        objects[kept.anomaly_map_key] = (anomaly_map, "image/png")
    media.put_all(store, objects)
    return kept


def save_shadow_results(
    engine: Engine, store: ObjectStore, records: Sequence[ShadowRecord], runner: ShadowRunner[ShadowRecord]
) -> None:
    """Store the disagreements' objects, then insert the rows of pairs that still exist, and add the drop counts."""
    rows = []
    for record in records:
        kept = KeptObjects()
        if record.image is not None:
            anomaly_map = record.live.anomaly_map
            kept = keep_objects(
                store,
                f"{PREFIX}{record.shadow_id}/{uuid.uuid4().hex}/",
                image=record.image,
                image_format=record.image_format,
                mask=record.live.mask_png,
                anomaly_map=media.encode_anomaly_map(anomaly_map) if anomaly_map is not None else None,
            )
        rows.append(
            ShadowResult(
                shadow_id=record.shadow_id,
                detected_at=record.detected_at,
                caller=record.caller,
                live_model_id=record.live_model_id,
                live_version=record.live_version,
                live_is_anomalous=record.live.is_anomalous,
                live_score=record.live.score,
                live_confidence=record.live.confidence,
                live_anomaly_fraction=record.live.anomaly_fraction,
                live_threshold=record.live_threshold,
                live_latency_ms=record.live_latency_ms,
                shadow_model_id=record.shadow_model_id,
                shadow_version=record.shadow_version,
                shadow_is_anomalous=record.shadow.is_anomalous,
                shadow_score=record.shadow.score,
                shadow_confidence=record.shadow.confidence,
                shadow_threshold=record.shadow_threshold,
                shadow_latency_ms=record.shadow_latency_ms,
                agrees=record.agrees,
                image_format=record.image_format,
                width=record.width,
                height=record.height,
                review_task_id=record.review_task_id,
                image_key=kept.image_key,
                mask_key=kept.mask_key,
                anomaly_map_key=kept.anomaly_map_key,
            )
        )
    with transaction(engine) as session:
        existing = set(session.exec(select(ShadowModel.id).where(col(ShadowModel.id).in_({r.shadow_id for r in rows}))))
        session.add_all([row for row in rows if row.shadow_id in existing])
    save_counts(engine, runner)


def save_counts(engine: Engine, runner: ShadowRunner[ShadowRecord]) -> None:
    """Add the drops and failures counted in memory since the last call to the pairs' stored totals."""
    counts = runner.take_counts()
    if not counts:
        return
    with transaction(engine) as session:
        for shadow_id, count in counts.items():
            session.execute(
                update(ShadowModel)
                .where(col(ShadowModel.id) == shadow_id)
                .values(
                    dropped=col(ShadowModel.dropped) + count.dropped,
                    failed=col(ShadowModel.failed) + count.failed,
                    updated_at=utcnow(),
                )
            )


def running_pair(session: Session, model: Model) -> ShadowModel | None:
    """The running pair `model` belongs to, as live or shadow."""
    return session.exec(
        select(ShadowModel).where(
            ShadowModel.status == ACTIVE,
            or_(col(ShadowModel.live_model_id) == model.id, col(ShadowModel.shadow_model_id) == model.id),
        )
    ).first()


def require_unpaired(session: Session, model: Model, *, project_name: str) -> None:
    """ConflictException when `model` is part of a running shadow pair (StopModel would break it)."""
    pair = running_pair(session, model)
    if pair is None:
        return
    role = "live model" if pair.live_model_id == model.id else "shadow model"
    raise ConflictException(
        f"Model {model.version} of project {project_name} is the {role} of a running shadow pair; end the pair with "
        "StopShadowModel first (it stops the shadow model's hosting).",
        resource_id=f"{project_name}/{model.version}",
        resource_type="MODEL",
    )


def pair_versions(session: Session, model: Model) -> tuple[int, int] | None:
    """(live version, shadow version) of the running pair `model` belongs to, if any (DescribeModel shows it)."""
    pair = running_pair(session, model)
    if pair is None:
        return None
    live, shadow = session.get(Model, pair.live_model_id), session.get(Model, pair.shadow_model_id)
    assert live is not None and shadow is not None
    return live.version, shadow.version

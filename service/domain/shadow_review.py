"""SendShadowDisagreementsToReview: a pair's disagreements into the reviewer queue, so that human verdicts say which
model was right (DescribeShadowComparison then counts each model's would-be false positives and negatives).

Each task is the live answer of its detection (the model that answered it), reason SHADOW_DISAGREEMENT, with its own
copies of the image, mask and anomaly map under `review/`. A disagreement already in review is left alone, so sending
twice adds nothing; the objects are written first and the tasks and links in one transaction.
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from service.db.engine import transaction
from service.db.models import Model, ReviewPolicy, ReviewTask, ShadowResult, utcnow
from service.domain.review import media
from service.domain.review.policy import effective_policy
from service.domain.review.routing import SHADOW_DISAGREEMENT
from service.domain.review.tasks import PENDING
from service.domain.shadow import latest_pair_of
from service.domain.shadow_traffic import KeptObjects, ShadowRecord, keep_objects
from service.hosting.shadow import ShadowRunner
from service.storage import ObjectStore, delete_quietly

DEFAULTS = ReviewPolicy(project_id=0, sampling_seed="")


@dataclass(frozen=True)
class SentToReview:
    task_ids: list[int]
    already_in_review: int
    without_image: int


def _copy(store: ObjectStore, row: ShadowResult, folder: str) -> KeptObjects:
    """Copy the disagreement's objects into a task folder."""
    assert row.image_key is not None and row.mask_key is not None
    return keep_objects(
        store,
        folder,
        image=store.get(row.image_key),
        image_format=row.image_format,
        mask=store.get(row.mask_key),
        anomaly_map=store.get(row.anomaly_map_key) if row.anomaly_map_key is not None else None,
    )


def send_disagreements_to_review(
    engine: Engine,
    store: ObjectStore,
    runner: ShadowRunner[ShadowRecord],
    *,
    project_name: str,
    version: str,
    limit: int,
) -> SentToReview:
    """Route up to `limit` of the pair's disagreements not yet in review, newest first. Shadow runs of requests
    answered before this call are waited for first, so none of them is missed."""
    runner.flush()
    with transaction(engine) as session:
        pair = latest_pair_of(session, project_name=project_name, version=version)
        disagreeing = list(
            session.exec(
                select(ShadowResult)
                .where(ShadowResult.shadow_id == pair.id, col(ShadowResult.agrees).is_(False))
                .order_by(col(ShadowResult.id).desc())
            )
        )
    waiting = [row for row in disagreeing if row.review_task_id is None and row.image_key is not None][:limit]
    copies = {row.id: _copy(store, row, media.task_folder(pair.project_id)) for row in waiting}
    task_ids: list[int] = []
    used: set[int | None] = set()
    try:
        with transaction(engine) as session:
            for row in waiting:
                model = session.get(Model, row.live_model_id)
                fresh = session.get(ShadowResult, row.id)
                if model is None or fresh is None or fresh.review_task_id is not None:
                    continue
                policy = effective_policy(session, project_id=pair.project_id, model_version=model.version)
                task = _task(row, model, policy or DEFAULTS, copies[row.id])
                session.add(task)
                session.flush()
                assert task.id is not None
                fresh.review_task_id = task.id
                session.add(fresh)
                task_ids.append(task.id)
                used.add(row.id)
    except BaseException:
        used.clear()
        raise
    finally:
        unused = [
            key
            for row_id, kept in copies.items()
            if row_id not in used
            for key in (kept.image_key, kept.mask_key, kept.anomaly_map_key)
            if key
        ]
        delete_quietly(store, unused)
    return SentToReview(
        task_ids=task_ids,
        already_in_review=sum(row.review_task_id is not None for row in disagreeing),
        without_image=sum(row.image_key is None for row in disagreeing),
    )


def _task(row: ShadowResult, model: Model, policy: ReviewPolicy, kept: KeptObjects) -> ReviewTask:
    assert model.id is not None
    now = utcnow()
    return ReviewTask(
        project_id=model.project_id,
        model_id=model.id,
        model_version=model.version,
        reason=SHADOW_DISAGREEMENT,
        status=PENDING,
        priority=abs(row.live_score - row.live_threshold),
        detected_at=row.detected_at,
        created_at=now,
        expires_at=now + timedelta(seconds=policy.task_ttl_seconds),
        caller=row.caller,
        is_anomalous=row.live_is_anomalous,
        confidence=row.live_confidence,
        score=row.live_score,
        threshold=row.live_threshold,
        anomaly_fraction=row.live_anomaly_fraction,
        image_format=row.image_format,
        width=row.width,
        height=row.height,
        required_reviews=policy.required_reviews,
        lease_seconds=policy.lease_seconds,
        image_key=kept.image_key,
        mask_key=kept.mask_key,
        anomaly_map_key=kept.anomaly_map_key,
    )

"""Routing one DetectAnomalies result to human review: the decision (a pure function of the policy and the result)
and, when it routes, the task with its own copies of the image, anomaly map and mask.

Audits are drawn first and independently of the other conditions: a detection is sampled when a hash of the policy's
seed and the image's content falls below `SamplingPercent`, so the audits are a uniform sample of every detection the
policy saw (low-confidence ones included), which keeps the precision and recall estimated from them unbiased.
Caps (calendar hour and day, UTC) are taken with one conditional UPDATE on the policy row.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, or_, update
from sqlmodel import Session, col

from service.context import AppContext
from service.db.engine import transaction
from service.db.models import Model, ReviewPolicy, ReviewTask
from service.domain.review import media
from service.domain.review.tasks import PENDING
from service.hosting.backend import Prediction
from service.storage import delete_quietly

SAMPLED, LOW_CONFIDENCE, SCORE_BAND, ANOMALOUS = "SAMPLED", "LOW_CONFIDENCE", "SCORE_BAND", "ANOMALOUS"
SHADOW_DISAGREEMENT = "SHADOW_DISAGREEMENT"
"""Not a policy's reason: a shadow pair's disagreement sent to review (`service.domain.shadow_review`)."""
REASONS = (SAMPLED, LOW_CONFIDENCE, SCORE_BAND, ANOMALOUS, SHADOW_DISAGREEMENT)
NOT_MATCHED, PAUSED, HOURLY_CAP_REACHED, DAILY_CAP_REACHED = (
    "NOT_MATCHED",
    "PAUSED",
    "HOURLY_CAP_REACHED",
    "DAILY_CAP_REACHED",
)


@dataclass(frozen=True)
class RoutingOutcome:
    """What DetectAnomalies reports as `HumanReview`."""

    routed: bool
    reason: str
    task_id: int | None = None


@dataclass(frozen=True)
class RoutedImage:
    """The request's image as DetectAnomalies decoded it."""

    data: bytes
    image_format: str
    width: int
    height: int


def sample_value(seed: str, image_sha256: str) -> float:
    """A number in [0, 1) fixed by the seed and the image's content, uniform over images."""
    digest = hashlib.sha256(f"{seed}:{image_sha256}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def decide(policy: ReviewPolicy, *, score: float, confidence: float, is_anomalous: bool, image_sha256: str) -> str:
    """The reason a result is routed (a `REASONS` member), or NOT_MATCHED / PAUSED; caps are not checked here."""
    if policy.paused:
        return PAUSED
    if policy.sampling_percent > 0 and sample_value(policy.sampling_seed, image_sha256) < policy.sampling_percent / 100:
        return SAMPLED
    if policy.confidence_below is not None and confidence < policy.confidence_below:
        return LOW_CONFIDENCE
    low, high = policy.score_band_low, policy.score_band_high
    if low is not None and high is not None and low <= score <= high:
        return SCORE_BAND
    if policy.all_anomalous and is_anomalous:
        return ANOMALOUS
    return NOT_MATCHED


def _take_cap_slot(session: Session, policy_id: int, now: datetime) -> bool:
    """Count one more routed detection in the hour and day windows, unless a cap is reached; True when counted."""
    hour, day = f"{now:%Y-%m-%dT%H}", f"{now:%Y-%m-%d}"
    result = session.execute(
        update(ReviewPolicy)
        .where(col(ReviewPolicy.id) == policy_id)
        .where(
            or_(
                col(ReviewPolicy.hourly_cap).is_(None),
                col(ReviewPolicy.hour_window) != hour,
                col(ReviewPolicy.hour_count) < col(ReviewPolicy.hourly_cap),
            )
        )
        .where(
            or_(
                col(ReviewPolicy.daily_cap).is_(None),
                col(ReviewPolicy.day_window) != day,
                col(ReviewPolicy.day_count) < col(ReviewPolicy.daily_cap),
            )
        )
        .values(
            hour_count=case((col(ReviewPolicy.hour_window) == hour, col(ReviewPolicy.hour_count) + 1), else_=1),
            hour_window=hour,
            day_count=case((col(ReviewPolicy.day_window) == day, col(ReviewPolicy.day_count) + 1), else_=1),
            day_window=day,
        )
    )
    return bool(getattr(result, "rowcount", 0))


def _cap_full(policy: ReviewPolicy, now: datetime) -> bool:
    """Whether the policy as read at the start of the request has no place left (saves writing objects in vain)."""
    hour_full = (
        policy.hourly_cap is not None
        and policy.hour_window == f"{now:%Y-%m-%dT%H}"
        and policy.hour_count >= policy.hourly_cap
    )
    day_full = (
        policy.daily_cap is not None and policy.day_window == f"{now:%Y-%m-%d}" and policy.day_count >= policy.daily_cap
    )
    return hour_full or day_full


def _cap_reached(policy: ReviewPolicy, now: datetime) -> str:
    full_hour = policy.hour_window == f"{now:%Y-%m-%dT%H}" and policy.hourly_cap is not None
    return HOURLY_CAP_REACHED if full_hour and policy.hour_count >= (policy.hourly_cap or 0) else DAILY_CAP_REACHED


def route_detection(
    context: AppContext,
    *,
    policy: ReviewPolicy,
    model: Model,
    prediction: Prediction,
    image: RoutedImage,
    detected_at: datetime,
    caller: str,
) -> RoutingOutcome:
    """Decide, and when the result is routed (and a cap allows), create its PENDING task."""
    reason = decide(
        policy,
        score=prediction.score,
        confidence=prediction.confidence,
        is_anomalous=prediction.is_anomalous,
        image_sha256=hashlib.sha256(image.data).hexdigest(),
    )
    if reason not in REASONS:
        return RoutingOutcome(routed=False, reason=reason)
    if _cap_full(policy, detected_at):
        return RoutingOutcome(routed=False, reason=_cap_reached(policy, detected_at))
    assert policy.id is not None and model.id is not None
    folder = media.task_folder(model.project_id)
    objects = {folder + media.image_name(image.image_format): (image.data, media.content_type(image.image_format))}
    objects[folder + "mask.png"] = (prediction.mask_png, "image/png")
    if prediction.anomaly_map is not None:
        objects[folder + "anomaly_map.png"] = (media.encode_anomaly_map(prediction.anomaly_map), "image/png")
    try:
        # Objects first, outside the transaction, so the database's write lock is not held while storage syncs.
        media.put_all(context.store, objects)
        with transaction(context.engine) as session:
            if not _take_cap_slot(session, policy.id, detected_at):
                fresh = session.get(ReviewPolicy, policy.id)
                delete_quietly(context.store, list(objects))
                return RoutingOutcome(routed=False, reason=_cap_reached(fresh or policy, detected_at))
            task = ReviewTask(
                project_id=model.project_id,
                model_id=model.id,
                model_version=model.version,
                reason=reason,
                sampled=reason == SAMPLED,
                status=PENDING,
                priority=abs(prediction.score - model.image_threshold),
                detected_at=detected_at,
                created_at=detected_at,
                expires_at=detected_at + timedelta(seconds=policy.task_ttl_seconds),
                caller=caller,
                is_anomalous=prediction.is_anomalous,
                confidence=prediction.confidence,
                score=prediction.score,
                threshold=model.image_threshold,
                anomaly_fraction=prediction.anomaly_fraction,
                image_key=folder + media.image_name(image.image_format),
                image_format=image.image_format,
                width=image.width,
                height=image.height,
                anomaly_map_key=folder + "anomaly_map.png" if prediction.anomaly_map is not None else None,
                mask_key=folder + "mask.png",
                required_reviews=policy.required_reviews,
                lease_seconds=policy.lease_seconds,
            )
            session.add(task)
            session.flush()
            assert task.id is not None
            return RoutingOutcome(routed=True, reason=reason, task_id=task.id)
    except BaseException:
        delete_quietly(context.store, list(objects))
        raise

"""Image thresholds of trained models: policies, their effect on the test set, and the history of changes.

Thresholds live on the normalised score scale the exported model outputs (0..1; 0.5 is the F1-optimal threshold on the
test set that training chose). An image is anomalous when its score >= the threshold. Policies are evaluated on the
per-image test scores kept at training time, so a new threshold needs no retraining. A policy that lands on a test
score moves halfway down to the next lower test score: the same decisions on the test set, with a margin for scores
that differ in the last digits between runtimes.

Hosting reads `Model.image_threshold` from the database (with at most a short cache), so a change here reaches a
hosted model on its next requests without a restart.
"""

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from sqlmodel import Session, col, select

from service.db.models import Model, ThresholdChange
from service.domain.evaluation import TestScores
from service.engine import metrics
from service.engine.normalised import NORMALISED_THRESHOLD
from service.errors import ConflictException, ValidationException

DEFAULT_THRESHOLD = NORMALISED_THRESHOLD


class Policy(StrEnum):
    F1_OPTIMAL = "F1_OPTIMAL"
    MANUAL = "MANUAL"
    TARGET_RECALL = "TARGET_RECALL"
    TARGET_PRECISION = "TARGET_PRECISION"
    TARGET_FPR = "TARGET_FPR"


@dataclass(frozen=True)
class OperatingPoint:
    """What a threshold does on the test set."""

    threshold: float
    precision: float
    recall: float
    f1: float
    false_positive_rate: float
    true_positives: int
    false_positives: int
    true_negatives: int
    false_negatives: int


def operating_point(labels: np.ndarray, scores: np.ndarray, threshold: float) -> OperatingPoint:
    confusion = metrics.confusion_at(labels, scores, threshold)
    return OperatingPoint(
        threshold=threshold,
        precision=confusion.precision,
        recall=confusion.recall,
        f1=confusion.f1,
        false_positive_rate=confusion.fpr,
        true_positives=confusion.tp,
        false_positives=confusion.fp,
        true_negatives=confusion.tn,
        false_negatives=confusion.fn,
    )


def with_margin(threshold: float, scores: np.ndarray) -> float:
    """Halfway down to the next lower score (or to 0): the same decisions on `scores`, away from any of them."""
    lower = scores[scores < threshold]
    return float((threshold + (lower.max() if lower.size else 0.0)) / 2)


def threshold_for(policy: Policy, value: float | None, labels: np.ndarray, scores: np.ndarray) -> float:
    """The threshold a policy asks for; ValidationException when its value is missing or no threshold reaches it."""
    if policy is Policy.F1_OPTIMAL:
        return DEFAULT_THRESHOLD
    if value is None:
        raise ValidationException(f"Policy {policy} needs a Value.")
    if policy is Policy.MANUAL:
        if not 0.0 <= value <= 1.0:
            raise ValidationException(f"A manual threshold must be between 0 and 1; got {value}.")
        return value
    search = {
        Policy.TARGET_RECALL: metrics.threshold_for_recall,
        Policy.TARGET_PRECISION: metrics.threshold_for_precision,
        Policy.TARGET_FPR: metrics.threshold_for_fpr,
    }[policy]
    try:
        threshold, _ = search(labels, scores, value)
    except ValueError as exc:
        raise ValidationException(f"Cannot apply {policy} {value} on this model's test set: {exc}.") from None
    return with_margin(threshold, scores)


def apply_threshold_policy(
    session: Session, *, model: Model, scores: TestScores, policy: Policy, value: float | None, changed_by: str
) -> tuple[OperatingPoint, ThresholdChange]:
    """Set a trained model's threshold by `policy`, update its Performance and record the change."""
    if model.evaluation_end_at is None:
        raise ConflictException(
            f"Model {model.version} has no evaluation yet (status {model.status}); set its threshold once it is trained.",
            resource_id=str(model.version),
            resource_type="MODEL",
        )
    threshold = threshold_for(policy, value, scores.labels, scores.scores)
    point = operating_point(scores.labels, scores.scores, threshold)
    change = ThresholdChange(
        model_id=model.id,  # type: ignore[arg-type]
        changed_by=changed_by,
        old_threshold=model.image_threshold,
        new_threshold=threshold,
        policy=policy_record(policy, value),
    )
    model.image_threshold = threshold
    model.threshold_policy = change.policy
    model.performance = performance(point)
    session.add(model)
    session.add(change)
    session.flush()
    return point, change


def policy_record(policy: Policy, value: float | None) -> dict[str, object]:
    return (
        {"Policy": str(policy)}
        if value is None or policy is Policy.F1_OPTIMAL
        else {"Policy": str(policy), "Value": value}
    )


def performance(point: OperatingPoint) -> dict[str, float]:
    """Lookout for Vision's ModelPerformance at one operating point."""
    return {"F1Score": point.f1, "Precision": point.precision, "Recall": point.recall}


def threshold_history(session: Session, *, model: Model, after_id: int, limit: int) -> list[ThresholdChange]:
    """Changes oldest first, starting after `after_id`; limit + 1 rows at most."""
    query = (
        select(ThresholdChange)
        .where(ThresholdChange.model_id == model.id, col(ThresholdChange.id) > after_id)
        .order_by(col(ThresholdChange.id))
        .limit(limit + 1)
    )
    return list(session.exec(query))

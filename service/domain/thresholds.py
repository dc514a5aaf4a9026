"""Image thresholds of trained models: policies, their effect on the test set, and the history of changes.

Thresholds live on the normalised score scale the exported model outputs (0..1; 0.5 is the F1-optimal threshold on the
test set that training chose). An image is anomalous when its score >= the threshold. Policies are evaluated on the
per-image test scores kept at training time, so a new threshold needs no retraining. A target policy (recall,
precision, FPR) either meets its target on the test set, or with a Confidence the one-sided Clopper-Pearson bound
of the metric meets it, or it is refused with a ValidationException naming the best reachable value or the number of
test images needed (`service.engine.metrics.targets` chooses the threshold). A policy that lands on a test score moves
halfway down to the next lower test score: the same decisions on the test set, with a margin for scores that differ
in the last digits between runtimes.

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
from service.engine.metrics import binomial
from service.engine.normalised import NORMALISED_THRESHOLD
from service.errors import ConflictException, ValidationException

DEFAULT_THRESHOLD = NORMALISED_THRESHOLD
MIN_CONFIDENCE = 0.5
INTERVAL_CONFIDENCE = 0.95
"""The confidence of the two-sided intervals DescribeModelEvaluation shows when the caller names none."""


class Policy(StrEnum):
    F1_OPTIMAL = "F1_OPTIMAL"
    MANUAL = "MANUAL"
    TARGET_RECALL = "TARGET_RECALL"
    TARGET_PRECISION = "TARGET_PRECISION"
    TARGET_FPR = "TARGET_FPR"


TARGET_METRICS = {
    Policy.TARGET_RECALL: metrics.TargetMetric.RECALL,
    Policy.TARGET_PRECISION: metrics.TargetMetric.PRECISION,
    Policy.TARGET_FPR: metrics.TargetMetric.FPR,
}
METRIC_NAMES = {
    metrics.TargetMetric.RECALL: "Recall",
    metrics.TargetMetric.PRECISION: "Precision",
    metrics.TargetMetric.FPR: "FalsePositiveRate",
}


@dataclass(frozen=True)
class TargetOutcome:
    """What a target policy's threshold achieves on the test set: the metric's point estimate and, with a confidence,
    its one-sided Clopper-Pearson bound (lower for recall and precision, upper for the false-positive rate)."""

    metric: str
    target: float
    estimate: float
    confidence: float | None = None
    bound: float | None = None


@dataclass(frozen=True)
class Decision:
    threshold: float
    target: TargetOutcome | None = None


@dataclass(frozen=True)
class RateInterval:
    """A test-set rate with its two-sided Clopper-Pearson interval."""

    estimate: float
    lower: float
    upper: float
    successes: int
    trials: int


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
    """Halfway down to the next lower score (or to 0): the same decisions on `scores`, away from any of them. Where
    the two are adjacent floats the midpoint rounds onto the lower score, and the threshold itself is kept."""
    lower = scores[scores < threshold]
    below = float(lower.max()) if lower.size else 0.0
    middle = float((threshold + below) / 2)
    return middle if middle > below else threshold


def _check_policy_confidence(policy: Policy, confidence: float | None) -> None:
    if confidence is None:
        return
    if policy not in TARGET_METRICS:
        raise ValidationException(
            f"A Confidence applies to TARGET_RECALL, TARGET_PRECISION and TARGET_FPR, not {policy}."
        )
    check_confidence(confidence)


def threshold_for(
    policy: Policy, value: float | None, labels: np.ndarray, scores: np.ndarray, confidence: float | None = None
) -> Decision:
    """The threshold a policy asks for and, for a target policy, what it achieves; ValidationException when a value
    is missing or out of range, or when no threshold meets the target."""
    _check_policy_confidence(policy, confidence)
    if policy is Policy.F1_OPTIMAL:
        return Decision(DEFAULT_THRESHOLD)
    if value is None:
        raise ValidationException(f"Policy {policy} needs a Value.")
    if policy is Policy.MANUAL:
        if not 0.0 <= value <= 1.0:
            raise ValidationException(f"A manual threshold must be between 0 and 1; got {value}.")
        return Decision(value)
    metric = TARGET_METRICS[policy]
    try:
        choice = metrics.choose_threshold(labels, scores, metric, value, confidence)
    except ValueError as exc:
        raise ValidationException(f"Cannot apply {policy} {value} on this model's test set: {exc}.") from None
    outcome = TargetOutcome(METRIC_NAMES[metric], value, choice.estimate, confidence, choice.bound)
    return Decision(with_margin(choice.threshold, scores), outcome)


def target_outcome(policy_record: dict[str, object], point: OperatingPoint) -> TargetOutcome | None:
    """What a recorded target policy achieves at `point` (the model's current threshold); None for other policies."""
    policy, value = Policy(str(policy_record.get("Policy", Policy.F1_OPTIMAL))), policy_record.get("Value")
    if policy not in TARGET_METRICS or not isinstance(value, (int, float)):
        return None
    confidence = policy_record.get("Confidence")
    metric = TARGET_METRICS[policy]
    name = METRIC_NAMES[metric]
    successes, trials = _rate_counts(point, name)
    if trials == 0:
        return None
    if not isinstance(confidence, (int, float)):
        return TargetOutcome(name, float(value), successes / trials)
    side = binomial.upper_bound if metric is metrics.TargetMetric.FPR else binomial.lower_bound
    bound = float(side(successes, trials, float(confidence)))
    return TargetOutcome(name, float(value), successes / trials, float(confidence), bound)


def _rate_counts(point: OperatingPoint, name: str) -> tuple[int, int]:
    """(successes, trials) of "Precision", "Recall" or "FalsePositiveRate" at `point`."""
    return {
        "Precision": (point.true_positives, point.true_positives + point.false_positives),
        "Recall": (point.true_positives, point.true_positives + point.false_negatives),
        "FalsePositiveRate": (point.false_positives, point.false_positives + point.true_negatives),
    }[name]


def rate_interval(point: OperatingPoint, name: str, confidence: float) -> RateInterval | None:
    """The two-sided interval of "Precision", "Recall" or "FalsePositiveRate" at `point`; None when undefined."""
    successes, trials = _rate_counts(point, name)
    if trials == 0:
        return None
    lower, upper = binomial.interval(successes, trials, confidence)
    return RateInterval(successes / trials, float(lower), float(upper), successes, trials)


def check_confidence(confidence: float) -> None:
    if not MIN_CONFIDENCE <= confidence < 1.0:
        raise ValidationException(f"Confidence must be at least {MIN_CONFIDENCE} and below 1; got {confidence}.")


def intervals(point: OperatingPoint, confidence: float) -> dict[str, RateInterval]:
    """Two-sided intervals of precision, recall and FPR at `point` (the rates that are defined)."""
    check_confidence(confidence)
    named = {name: rate_interval(point, name, confidence) for name in ("Precision", "Recall", "FalsePositiveRate")}
    return {name: rate for name, rate in named.items() if rate is not None}


def apply_threshold_policy(
    session: Session,
    *,
    model: Model,
    scores: TestScores,
    policy: Policy,
    value: float | None,
    changed_by: str,
    confidence: float | None = None,
) -> tuple[OperatingPoint, Decision, ThresholdChange]:
    """Set a trained model's threshold by `policy`, update its Performance and record the change."""
    if model.evaluation_end_at is None:
        raise ConflictException(
            f"Model {model.version} has no evaluation yet (status {model.status}); set its threshold once it is trained.",
            resource_id=str(model.version),
            resource_type="MODEL",
        )
    decision = threshold_for(policy, value, scores.labels, scores.scores, confidence)
    threshold = decision.threshold
    point = operating_point(scores.labels, scores.scores, threshold)
    change = ThresholdChange(
        model_id=model.id,  # type: ignore[arg-type]
        changed_by=changed_by,
        old_threshold=model.image_threshold,
        new_threshold=threshold,
        policy=policy_record(policy, value, confidence),
    )
    model.image_threshold = threshold
    model.threshold_policy = change.policy
    model.performance = performance(point)
    session.add(model)
    session.add(change)
    session.flush()
    return point, decision, change


def policy_record(policy: Policy, value: float | None, confidence: float | None = None) -> dict[str, object]:
    record: dict[str, object] = {"Policy": str(policy)}
    if value is not None and policy is not Policy.F1_OPTIMAL:
        record["Value"] = value
    if confidence is not None:
        record["Confidence"] = confidence
    return record


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

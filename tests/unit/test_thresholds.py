"""Threshold policies on known test scores: what each one picks, what it costs, and what it refuses."""

import numpy as np
import pytest
import torch

from service.domain.evaluation import verdict_confidence
from service.domain.thresholds import (
    Policy,
    intervals,
    operating_point,
    policy_record,
    target_outcome,
    threshold_for,
    with_margin,
)
from service.engine.normalization import NormalizationStats, ScoreNormalizer, ScoreScale
from service.engine.types import InferenceBatch
from service.errors import ValidationException

# Ten normal images (label 0) and five anomalous ones; one anomaly (0.45) scores below two normal ones (0.5, 0.55).
LABELS = np.array([0] * 10 + [1] * 5)
SCORES = np.array([0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.55, 0.45, 0.7, 0.8, 0.9, 0.95])


def test_target_recall_one_is_the_highest_threshold_missing_no_defect() -> None:
    decision = threshold_for(Policy.TARGET_RECALL, 1.0, LABELS, SCORES)
    assert 0.4 < decision.threshold < 0.45
    point = operating_point(LABELS, SCORES, decision.threshold)
    assert (point.recall, point.false_negatives, point.false_positives) == (1.0, 0, 2)
    assert point.precision == pytest.approx(5 / 7)
    assert decision.target is not None
    assert (decision.target.metric, decision.target.estimate, decision.target.bound) == ("Recall", 1.0, None)


def test_target_precision_and_fpr_keep_false_alarms_out() -> None:
    precise = operating_point(LABELS, SCORES, threshold_for(Policy.TARGET_PRECISION, 1.0, LABELS, SCORES).threshold)
    assert (precise.precision, precise.recall) == (1.0, 0.8)
    assert 0.55 < precise.threshold < 0.7
    no_alarms = operating_point(LABELS, SCORES, threshold_for(Policy.TARGET_FPR, 0.0, LABELS, SCORES).threshold)
    assert (no_alarms.false_positive_rate, no_alarms.true_positives) == (0.0, 4)
    # One false alarm is allowed, but spending it (0.55) finds no further defect: the same recall without it.
    one_alarm = operating_point(LABELS, SCORES, threshold_for(Policy.TARGET_FPR, 0.1, LABELS, SCORES).threshold)
    assert (one_alarm.false_positives, one_alarm.true_positives) == (0, 4)


def test_manual_and_default_policies() -> None:
    assert threshold_for(Policy.F1_OPTIMAL, None, LABELS, SCORES).threshold == 0.5
    assert threshold_for(Policy.MANUAL, 0.6, LABELS, SCORES).threshold == 0.6
    point = operating_point(LABELS, SCORES, 0.6)
    assert (point.true_positives, point.false_positives, point.true_negatives, point.false_negatives) == (4, 0, 10, 1)
    assert point.f1 == pytest.approx(2 * 4 / (2 * 4 + 1))


@pytest.mark.parametrize(
    ("policy", "value", "confidence", "message"),
    [
        (Policy.MANUAL, None, None, "needs a Value"),
        (Policy.MANUAL, 1.2, None, "between 0 and 1"),
        (Policy.TARGET_RECALL, 0.0, None, "target recall"),
        (Policy.TARGET_PRECISION, 1.5, None, "target precision"),
        (Policy.MANUAL, 0.5, 0.95, "A Confidence applies to TARGET_RECALL"),
        (Policy.TARGET_RECALL, 0.9, 1.0, "Confidence must be at least 0.5 and below 1"),
        (Policy.TARGET_RECALL, 0.9, 0.2, "Confidence must be at least 0.5 and below 1"),
        (Policy.TARGET_RECALL, 0.9, 0.95, "at least 29 anomalous test images are needed to claim recall >= 0.9"),
        (Policy.TARGET_FPR, 0.05, 0.95, "at least 59 normal test images are needed"),
    ],
)
def test_invalid_or_unreachable_values_are_refused(
    policy: Policy, value: float | None, confidence: float | None, message: str
) -> None:
    with pytest.raises(ValidationException, match=message):
        threshold_for(policy, value, LABELS, SCORES, confidence)


def test_todays_silent_fpr_miss_on_clipped_scores_is_now_refused_and_unsaturated_scores_meet_it() -> None:
    """Before: the clipped scale tied 7 of 30 images at 1.0, two of them normal, and TARGET_FPR 0.05 answered a
    threshold just above 1.0 "moved halfway down" back onto 1.0, flagging all seven: FPR 0.1, answered as applied."""
    rng = np.random.default_rng(0)
    labels = np.array([0] * 20 + [1] * 10)
    raw = np.r_[rng.uniform(0.0, 1.0, 18), [2.75, 3.0], rng.uniform(0.8, 1.6, 5), [2.6, 2.7, 2.8, 2.9, 3.1]]
    stats = NormalizationStats(1.0, 1.0, float(raw.min()), float(raw.max()), 0.0, 1.0)

    def normalised(scale: ScoreScale) -> np.ndarray:
        batch = InferenceBatch(torch.from_numpy(raw.astype(np.float32)), torch.zeros(1, 1, 1))
        return ScoreNormalizer(stats, scale)(batch).pred_score.numpy().astype(np.float64)

    clipped = normalised(ScoreScale.CLIPPED)
    assert np.sum(clipped == 1.0) == 7
    with pytest.raises(ValidationException, match=r"the lowest FPR reachable is 0\.1 at recall 0\.5"):
        threshold_for(Policy.TARGET_FPR, 0.05, labels, clipped)
    unsaturated = normalised(ScoreScale.UNSATURATED)
    decision = threshold_for(Policy.TARGET_FPR, 0.05, labels, unsaturated)
    point = operating_point(labels, unsaturated, decision.threshold)
    assert (point.false_positives, point.true_positives) == (1, 3)


def test_margin_keeps_decisions_and_leaves_every_score() -> None:
    for threshold in SCORES:
        moved = with_margin(float(threshold), SCORES)
        assert moved < threshold and moved not in SCORES
        assert np.array_equal(SCORES >= moved, SCORES >= threshold)
    adjacent = np.array([0.5, np.nextafter(0.5, 1.0)])
    assert with_margin(float(adjacent[1]), adjacent) == adjacent[1]


def test_intervals_and_the_recorded_targets_outcome_at_the_current_threshold() -> None:
    point = operating_point(LABELS, SCORES, 0.6)
    rates = intervals(point, 0.95)
    assert set(rates) == {"Precision", "Recall", "FalsePositiveRate"}
    assert (rates["Recall"].successes, rates["Recall"].trials, rates["Recall"].estimate) == (4, 5, 0.8)
    assert rates["Recall"].lower == pytest.approx(0.2836, abs=1e-4)
    assert rates["Recall"].upper == pytest.approx(0.9949, abs=1e-4)
    assert rates["FalsePositiveRate"].lower == 0.0
    with pytest.raises(ValidationException, match="Confidence must be"):
        intervals(point, 1.5)
    recorded = policy_record(Policy.TARGET_RECALL, 0.5, 0.8)
    assert recorded == {"Policy": "TARGET_RECALL", "Value": 0.5, "Confidence": 0.8}
    outcome = target_outcome(recorded, point)
    assert outcome is not None and outcome.bound is not None
    assert (outcome.metric, outcome.estimate, outcome.confidence) == ("Recall", 0.8, 0.8)
    assert 0.5 < outcome.bound < 0.8
    assert target_outcome(policy_record(Policy.MANUAL, 0.6), point) is None
    assert target_outcome(policy_record(Policy.TARGET_FPR, 0.1), point).bound is None  # type: ignore[union-attr]


def test_verdict_confidence_is_half_at_the_threshold_and_one_at_the_ends() -> None:
    assert verdict_confidence(0.3, 0.3) == 0.5
    assert verdict_confidence(1.0, 0.3) == 1.0
    assert verdict_confidence(0.0, 0.3) == 1.0
    assert verdict_confidence(0.65, 0.3) == pytest.approx(0.75)
    assert verdict_confidence(0.15, 0.3) == pytest.approx(0.75)

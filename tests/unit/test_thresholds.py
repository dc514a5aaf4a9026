"""Threshold policies on known test scores: what each one picks and what it costs."""

import numpy as np
import pytest

from service.domain.evaluation import verdict_confidence
from service.domain.thresholds import Policy, operating_point, threshold_for, with_margin
from service.errors import ValidationException

# Ten normal images (label 0) and five anomalous ones; one anomaly (0.45) scores below two normal ones (0.5, 0.55).
LABELS = np.array([0] * 10 + [1] * 5)
SCORES = np.array([0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.55, 0.45, 0.7, 0.8, 0.9, 0.95])


def test_target_recall_one_is_the_highest_threshold_missing_no_defect() -> None:
    threshold = threshold_for(Policy.TARGET_RECALL, 1.0, LABELS, SCORES)
    assert 0.4 < threshold < 0.45
    point = operating_point(LABELS, SCORES, threshold)
    assert (point.recall, point.false_negatives, point.false_positives) == (1.0, 0, 2)
    assert point.precision == pytest.approx(5 / 7)


def test_target_precision_and_fpr_keep_false_alarms_out() -> None:
    precise = operating_point(LABELS, SCORES, threshold_for(Policy.TARGET_PRECISION, 1.0, LABELS, SCORES))
    assert (precise.precision, precise.recall) == (1.0, 0.8)
    assert 0.55 < precise.threshold < 0.7
    no_alarms = operating_point(LABELS, SCORES, threshold_for(Policy.TARGET_FPR, 0.0, LABELS, SCORES))
    assert (no_alarms.false_positive_rate, no_alarms.true_positives) == (0.0, 4)
    one_alarm = operating_point(LABELS, SCORES, threshold_for(Policy.TARGET_FPR, 0.1, LABELS, SCORES))
    assert (one_alarm.false_positives, one_alarm.true_positives) == (1, 4)


def test_manual_and_default_policies() -> None:
    assert threshold_for(Policy.F1_OPTIMAL, None, LABELS, SCORES) == 0.5
    assert threshold_for(Policy.MANUAL, 0.6, LABELS, SCORES) == 0.6
    point = operating_point(LABELS, SCORES, 0.6)
    assert (point.true_positives, point.false_positives, point.true_negatives, point.false_negatives) == (4, 0, 10, 1)
    assert point.f1 == pytest.approx(2 * 4 / (2 * 4 + 1))


@pytest.mark.parametrize(
    ("policy", "value", "message"),
    [
        (Policy.MANUAL, None, "needs a Value"),
        (Policy.MANUAL, 1.2, "between 0 and 1"),
        (Policy.TARGET_RECALL, 0.0, "target recall"),
        (Policy.TARGET_PRECISION, 1.5, "target precision"),
    ],
)
def test_unreachable_or_invalid_values_are_refused(policy: Policy, value: float | None, message: str) -> None:
    with pytest.raises(ValidationException, match=message):
        threshold_for(policy, value, LABELS, SCORES)


def test_margin_keeps_decisions_and_leaves_every_score() -> None:
    for threshold in SCORES:
        moved = with_margin(float(threshold), SCORES)
        assert moved < threshold and moved not in SCORES
        assert np.array_equal(SCORES >= moved, SCORES >= threshold)


def test_verdict_confidence_is_half_at_the_threshold_and_one_at_the_ends() -> None:
    assert verdict_confidence(0.3, 0.3) == 0.5
    assert verdict_confidence(1.0, 0.3) == 1.0
    assert verdict_confidence(0.0, 0.3) == 1.0
    assert verdict_confidence(0.65, 0.3) == pytest.approx(0.75)
    assert verdict_confidence(0.15, 0.3) == pytest.approx(0.75)

"""Target thresholds: met on the test set (or its confidence bound) or refused, never a silent miss; the operating
point a user would pick among those that meet the target; ties, one-class and tiny sets."""

import itertools

import numpy as np
import pytest

from service.engine.metrics import TargetMetric, TargetUnreachable, binomial, choose_threshold, confusion_at

RECALL, PRECISION, FPR = TargetMetric.RECALL, TargetMetric.PRECISION, TargetMetric.FPR


def _rate(metric: TargetMetric, labels: np.ndarray, scores: np.ndarray, threshold: float) -> tuple[int, int]:
    """(successes, trials) of the metric at a threshold, by counting."""
    confusion = confusion_at(labels, scores, threshold)
    return {
        RECALL: (confusion.tp, confusion.tp + confusion.fn),
        PRECISION: (confusion.tp, confusion.tp + confusion.fp),
        FPR: (confusion.fp, confusion.fp + confusion.tn),
    }[metric]


def _meets(metric: TargetMetric, target: float, confidence: float | None, successes: int, trials: int) -> bool:
    if confidence is None:
        value = successes / trials
    elif metric is FPR:
        value = binomial.upper_bound(successes, trials, confidence)
    else:
        value = binomial.lower_bound(successes, trials, confidence)
    return value <= target + 1e-12 if metric is FPR else value >= target - 1e-12


def _preferred(metric: TargetMetric, point: tuple[int, int], other: tuple[int, int]) -> bool:
    """Whether (tp, fp) `point` is at least as good as `other` by the rule the module promises."""
    (tp, fp), (other_tp, other_fp) = point, other
    if metric is RECALL:
        return (fp, -tp) <= (other_fp, -other_tp)
    return (-tp, fp) <= (-other_tp, other_fp)


def _tied_sets() -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(17)
    sets = []
    for size in (3, 8, 40, 120):
        labels = rng.integers(0, 2, size)
        labels[:2] = [0, 1]
        scores = np.round(rng.normal(labels * 1.0, 1.0), 1)  # one decimal: many ties across classes
        sets.append((labels, scores))
    return sets


@pytest.mark.parametrize(("labels", "scores"), _tied_sets())
@pytest.mark.parametrize(
    ("metric", "target"),
    [(RECALL, 0.5), (RECALL, 0.9), (RECALL, 1.0), (PRECISION, 0.6), (PRECISION, 0.9), (FPR, 0.0), (FPR, 0.2)],
)
@pytest.mark.parametrize("confidence", [None, 0.8])
def test_the_choice_meets_the_target_and_nothing_better_does_or_it_is_refused(
    labels: np.ndarray, scores: np.ndarray, metric: TargetMetric, target: float, confidence: float | None
) -> None:
    candidates = {}
    for threshold in np.unique(scores):
        successes, trials = _rate(metric, labels, scores, float(threshold))
        if _meets(metric, target, confidence, successes, trials):
            confusion = confusion_at(labels, scores, float(threshold))
            candidates[float(threshold)] = (confusion.tp, confusion.fp)
    if not candidates:
        with pytest.raises(TargetUnreachable):
            choose_threshold(labels, scores, metric, target, confidence)
        return
    choice = choose_threshold(labels, scores, metric, target, confidence)
    assert choice.threshold in candidates
    point = candidates[choice.threshold]
    assert (choice.true_positives, choice.false_positives) == point
    assert all(_preferred(metric, point, other) for other in candidates.values())
    successes, trials = _rate(metric, labels, scores, choice.threshold)
    assert choice.estimate == pytest.approx(successes / trials)
    assert (choice.bound is None) == (confidence is None)


# Ten normal images and five anomalous ones; one anomaly (0.45) scores below two normal ones (0.5, 0.55).
LABELS = np.array([0] * 10 + [1] * 5)
SCORES = np.array([0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.55, 0.45, 0.7, 0.8, 0.9, 0.95])


def test_for_the_same_recall_the_fewest_false_positives() -> None:
    # FPR 0.1 allows one false alarm, but the one false alarm within budget (0.55) finds no further defect.
    choice = choose_threshold(LABELS, SCORES, FPR, 0.1)
    assert (choice.threshold, choice.true_positives, choice.false_positives) == (0.7, 4, 0)
    # Precision 0.7 is first reached at 0.45 (5 TP, 2 FP); 0.7 gives 4 TP with no FP, but less recall.
    precise = choose_threshold(LABELS, SCORES, PRECISION, 0.7)
    assert (precise.true_positives, precise.false_positives) == (5, 2)
    # Bottle-like: a precision target reachable with 1 FP and, lower down, 3 FP at the same recall.
    labels = np.array([1] * 19 + [0, 0, 0, 0] + [0] * 20)
    scores = np.r_[np.linspace(0.9, 0.6, 19), [0.61, 0.55, 0.54, 0.53], np.linspace(0.4, 0.1, 20)]
    choice = choose_threshold(labels, scores, PRECISION, 0.85)
    assert (choice.true_positives, choice.false_positives) == (19, 1)


def test_recall_picks_the_fewest_false_positives_and_then_the_most_recall() -> None:
    choice = choose_threshold(LABELS, SCORES, RECALL, 0.6)
    assert (choice.true_positives, choice.false_positives, choice.threshold) == (4, 0, 0.7)
    assert choose_threshold(LABELS, SCORES, RECALL, 1.0).threshold == 0.45


def test_a_tie_across_classes_at_the_top_refuses_fpr_with_the_best_reachable_value() -> None:
    # The clipped scale put 171 of 1,000 PCB images at 1.0; here 6 of 30, two of them normal.
    labels = np.array([1, 1, 1, 1, 0, 0] + [1] * 5 + [0] * 17 + [1, 0])
    scores = np.r_[[1.0] * 6, np.linspace(0.9, 0.2, 22), [0.15, 0.1]]
    with pytest.raises(TargetUnreachable, match=r"the lowest FPR reachable is 0\.1 at recall 0\.4"):
        choose_threshold(labels, scores, FPR, 0.05)
    assert choose_threshold(labels, scores, FPR, 0.1).false_positives == 2


def test_unreachable_precision_names_the_highest_reachable() -> None:
    with pytest.raises(TargetUnreachable, match=r"the highest precision reachable is 0\.333 at recall 1"):
        choose_threshold([1, 0, 0], [0.1, 0.5, 0.9], PRECISION, 0.9)
    with pytest.raises(TargetUnreachable, match=r"lower bound of precision reachable at 80 % confidence"):
        choose_threshold(
            [0, 0, 0] + [1] * 20 + [0] * 10,
            np.r_[[0.99, 0.98, 0.97], np.linspace(0.9, 0.5, 20), np.linspace(0.4, 0.1, 10)],
            PRECISION,
            0.9,
            0.8,
        )


def test_all_normal_sets() -> None:
    labels, scores = np.zeros(20), np.linspace(0.1, 0.9, 20)
    # Without defects to find, the fewest false alarms within the budget.
    choice = choose_threshold(labels, scores, FPR, 0.1)
    assert (choice.false_positives, choice.threshold, choice.estimate) == (1, 0.9, 0.05)
    with pytest.raises(TargetUnreachable, match=r"lowest FPR reachable is 0\.05"):
        choose_threshold(labels, scores, FPR, 0.0)
    for metric in (RECALL, PRECISION):
        with pytest.raises(TargetUnreachable, match=f"{metric} is undefined without anomalous test images"):
            choose_threshold(labels, scores, metric, 0.5)


def test_all_anomalous_sets() -> None:
    labels, scores = np.ones(12), np.linspace(0.1, 0.9, 12)
    # No false positive to avoid: the most recall.
    assert choose_threshold(labels, scores, RECALL, 0.5).true_positives == 12
    precise = choose_threshold(labels, scores, PRECISION, 1.0)
    assert (precise.true_positives, precise.false_positives) == (12, 0)
    with pytest.raises(TargetUnreachable, match="undefined without normal test images"):
        choose_threshold(labels, scores, FPR, 0.1)


def test_tiny_sets() -> None:
    assert choose_threshold([1], [0.3], RECALL, 1.0).threshold == 0.3
    assert choose_threshold([0, 1], [0.2, 0.2], RECALL, 1.0).false_positives == 1
    with pytest.raises(TargetUnreachable, match=r"lowest FPR reachable is 1"):
        choose_threshold([0, 1], [0.2, 0.2], FPR, 0.5)
    with pytest.raises(TargetUnreachable, match="at least 59 anomalous test images are needed to claim recall >= 0.95"):
        choose_threshold([0, 1], [0.1, 0.9], RECALL, 0.95, 0.95)


@pytest.mark.parametrize(
    ("metric", "target", "message"),
    [
        (RECALL, 0.95, "at least 59 anomalous test images are needed to claim recall >= 0.95 at 95 % confidence; this"),
        (PRECISION, 0.9, "at least 29 anomalous test images are needed to claim precision >= 0.9"),
        (FPR, 0.05, "at least 59 normal test images are needed to claim FPR <= 0.05 at 95 % confidence; this test"),
        (RECALL, 1.0, "no finite test set supports recall >= 1"),
        (FPR, 0.0, "no finite test set supports FPR <= 0"),
    ],
)
def test_a_confidence_the_test_set_is_too_small_for_names_the_images_needed(
    metric: TargetMetric, target: float, message: str
) -> None:
    labels, scores = np.r_[np.zeros(40), np.ones(20)], np.r_[np.linspace(0, 0.4, 40), np.linspace(0.6, 1, 20)]
    if metric is RECALL:
        labels = np.r_[np.zeros(20), np.ones(40)]
    with pytest.raises(TargetUnreachable, match=message.replace("+", r"\+")):
        choose_threshold(labels, scores, metric, target, 0.95)


def test_a_confidence_moves_the_threshold_so_that_the_bound_meets_the_target() -> None:
    rng = np.random.default_rng(3)
    labels = np.r_[np.zeros(300), np.ones(300)]
    scores = rng.normal(labels * 2.0, 1.0)
    plain = choose_threshold(labels, scores, RECALL, 0.9)
    sure = choose_threshold(labels, scores, RECALL, 0.9, 0.95)
    assert sure.threshold < plain.threshold and sure.estimate > plain.estimate
    assert sure.bound is not None and 0.9 <= sure.bound < sure.estimate
    assert binomial.lower_bound(sure.true_positives - 1, 300, 0.95) < 0.9
    low_fpr = choose_threshold(labels, scores, FPR, 0.1, 0.95)
    assert low_fpr.bound is not None and low_fpr.estimate < low_fpr.bound <= 0.1


@pytest.mark.parametrize(("metric", "target"), list(itertools.product([RECALL, PRECISION], [0.0, -0.1, 1.1])))
def test_targets_out_of_range_are_refused(metric: TargetMetric, target: float) -> None:
    with pytest.raises(ValueError, match=f"target {metric} must be in"):
        choose_threshold(LABELS, SCORES, metric, target)
    with pytest.raises(ValueError, match="confidence must be strictly between 0 and 1"):
        choose_threshold(LABELS, SCORES, metric, 0.5, 1.0)

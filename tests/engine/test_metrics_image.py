import numpy as np
import pytest
import torch
from torchmetrics.functional.classification import (
    binary_auroc,
    binary_average_precision,
    binary_precision_recall_curve,
    binary_roc,
)

from service.engine.metrics import (
    average_precision,
    confusion_at,
    f1_max,
    image_auroc,
    pr_curve,
    roc_curve,
    threshold_for_recall,
)


def _overlapping_classes(seed: int, n: int = 60, ties: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < 0.4).astype(np.int64)
    labels[:2] = [0, 1]
    scores = rng.normal(size=n) + 1.2 * labels
    if ties:
        scores = np.round(scores, 0)
    return labels, scores


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_auroc_and_average_precision_agree_with_torchmetrics(seed: int, ties: bool) -> None:
    labels, scores = _overlapping_classes(seed, ties=ties)
    scores = (scores - scores.min()) / (scores.max() - scores.min())  # torchmetrics applies a sigmoid outside [0, 1]
    expected_auroc = binary_auroc(torch.tensor(scores), torch.tensor(labels)).item()
    expected_ap = binary_average_precision(torch.tensor(scores), torch.tensor(labels)).item()
    assert image_auroc(labels, scores) == pytest.approx(expected_auroc, abs=1e-6)
    assert average_precision(labels, scores) == pytest.approx(expected_ap, abs=1e-6)


def test_curves_agree_with_torchmetrics_and_accept_tensors() -> None:
    labels, scores = _overlapping_classes(3, ties=True)
    scores = (scores - scores.min()) / (scores.max() - scores.min())  # torchmetrics applies a sigmoid outside [0, 1]
    fpr, tpr, roc_thresholds = roc_curve(torch.tensor(labels), torch.tensor(scores))
    tm_fpr, tm_tpr, _ = binary_roc(torch.tensor(scores), torch.tensor(labels))
    np.testing.assert_allclose(fpr, tm_fpr.numpy(), atol=1e-6)
    np.testing.assert_allclose(tpr, tm_tpr.numpy(), atol=1e-6)
    assert roc_thresholds[0] == np.inf and np.all(np.diff(roc_thresholds) < 0)

    precision, recall, pr_thresholds = pr_curve(labels, scores)
    assert precision.size == recall.size == pr_thresholds.size + 1
    assert (precision[-1], recall[-1]) == (1.0, 0.0) and np.all(np.diff(pr_thresholds) > 0)
    tm_precision, tm_recall, tm_thresholds = binary_precision_recall_curve(torch.tensor(scores), torch.tensor(labels))
    np.testing.assert_allclose(pr_thresholds, tm_thresholds.numpy()[-pr_thresholds.size :], rtol=1e-6)
    np.testing.assert_allclose(precision, tm_precision.numpy()[-precision.size :], atol=1e-6)
    np.testing.assert_allclose(recall, tm_recall.numpy()[-recall.size :], atol=1e-6)


def test_curve_points_match_confusion_at_each_threshold() -> None:
    labels, scores = _overlapping_classes(4, ties=True)
    fpr, tpr, thresholds = roc_curve(labels, scores)
    for point_fpr, point_tpr, threshold in zip(fpr[1:], tpr[1:], thresholds[1:]):
        confusion = confusion_at(labels, scores, threshold)
        assert (confusion.fpr, confusion.recall) == pytest.approx((point_fpr, point_tpr))


def test_confusion_counts_and_ratios() -> None:
    confusion = confusion_at([0, 0, 1, 1, 1], [0.1, 0.7, 0.7, 0.2, 0.9], threshold=0.7)
    assert (confusion.tp, confusion.fp, confusion.tn, confusion.fn) == (2, 1, 1, 1)
    assert confusion.precision == pytest.approx(2 / 3)
    assert confusion.recall == pytest.approx(2 / 3)
    assert confusion.f1 == pytest.approx(2 / 3)
    assert confusion.fpr == pytest.approx(0.5)
    assert confusion.accuracy == pytest.approx(0.6)
    nothing_flagged = confusion_at([0, 1], [0.1, 0.2], threshold=1.0)
    assert (nothing_flagged.precision, nothing_flagged.f1, nothing_flagged.recall) == (0.0, 0.0, 0.0)


def _brute_force_points(labels: np.ndarray, scores: np.ndarray) -> list[tuple[float, object]]:
    return [(float(t), confusion_at(labels, scores, t)) for t in np.unique(scores)]


@pytest.mark.parametrize("seed", [0, 5])
def test_f1_max_is_the_best_f1_over_all_thresholds(seed: int) -> None:
    labels, scores = _overlapping_classes(seed, ties=seed == 5)
    f1, threshold = f1_max(labels, scores)
    best = max(c.f1 for _, c in _brute_force_points(labels, scores))
    assert f1 == pytest.approx(best)
    assert confusion_at(labels, scores, threshold).f1 == pytest.approx(best)


@pytest.mark.parametrize("target", [0.5, 0.8, 1.0])
def test_threshold_for_recall_is_the_highest_reaching_the_target(target: float) -> None:
    labels, scores = _overlapping_classes(6)
    threshold, precision = threshold_for_recall(labels, scores, target)
    confusion = confusion_at(labels, scores, threshold)
    assert confusion.recall >= target and confusion.precision == pytest.approx(precision)
    higher = [t for t, c in _brute_force_points(labels, scores) if t > threshold]
    assert all(confusion_at(labels, scores, t).recall < target for t in higher)


def test_degenerate_inputs_raise_clear_errors() -> None:
    with pytest.raises(ValueError, match="only one class"):
        image_auroc([0, 0, 0], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="only one class"):
        roc_curve([1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="without anomalous"):
        average_precision([0, 0], [0.1, 0.2])
    with pytest.raises(ValueError, match="differ in length"):
        image_auroc([0, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="0 \\(normal\\) or 1"):
        image_auroc([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="NaN"):
        image_auroc([0, 1], [0.1, float("nan")])
    with pytest.raises(ValueError, match="target recall"):
        threshold_for_recall([0, 1], [0.1, 0.2], 0.0)


def test_defined_values_for_perfect_and_all_tied_scores() -> None:
    assert image_auroc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert image_auroc([0, 0, 1, 1], [0.5, 0.5, 0.5, 0.5]) == 0.5
    assert average_precision([1, 1, 1], [0.1, 0.2, 0.3]) == 1.0
    assert f1_max([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == (1.0, 0.8)

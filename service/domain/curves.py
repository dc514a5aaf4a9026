"""ROC and precision-recall curves of a model's test scores, each point with its Clopper-Pearson band.

Every point is a threshold on the normalised score scale and the counts it gives on the test images; the band is the
two-sided interval of each rate at that point (a console draws it around the curve). Pure numpy on `TestScores`:
nothing here reads storage or the database.
"""

from dataclasses import dataclass

import numpy as np

from service.domain.evaluation import TestScores
from service.engine import metrics
from service.engine.metrics import binomial


@dataclass(frozen=True)
class Band:
    lower: list[float]
    upper: list[float]


@dataclass(frozen=True)
class Curves:
    roc_thresholds: list[float]
    false_positive_rate: list[float]
    true_positive_rate: list[float]
    false_positive_rate_band: Band
    true_positive_rate_band: Band
    pr_thresholds: list[float]
    precision: list[float]
    recall: list[float]
    precision_band: Band
    recall_band: Band


def _floats(values: np.ndarray) -> list[float]:
    return [float(value) for value in values]


def _band(successes: np.ndarray, trials: np.ndarray, confidence: float) -> Band:
    lower, upper = binomial.interval(successes, trials, confidence)
    return Band(_floats(np.atleast_1d(lower)), _floats(np.atleast_1d(upper)))


def model_curves(scores: TestScores, confidence: float) -> Curves:
    """Both curves on `scores` (which must hold both classes; ValueError otherwise) with bands at `confidence`."""
    labels, values = scores.labels, scores.scores
    fpr, tpr, roc_thresholds = metrics.roc_curve(labels, values)
    roc_thresholds[0] = np.nextafter(values.max(), np.inf)
    positives = int(labels.sum())
    negatives = labels.size - positives
    tps, fps = np.rint(tpr * positives).astype(np.int64), np.rint(fpr * negatives).astype(np.int64)
    precision, recall, pr_thresholds = metrics.pr_curve(labels, values)
    # The PR thresholds are ROC thresholds (ascending, cut at full recall): look their counts up there.
    roc_index = {float(threshold): index for index, threshold in enumerate(roc_thresholds)}
    at = np.array([roc_index[float(threshold)] for threshold in pr_thresholds], dtype=np.int64)
    flagged = tps[at] + fps[at]
    return Curves(
        roc_thresholds=_floats(roc_thresholds),
        false_positive_rate=_floats(fpr),
        true_positive_rate=_floats(tpr),
        false_positive_rate_band=_band(fps, np.full(fps.shape, negatives), confidence),
        true_positive_rate_band=_band(tps, np.full(tps.shape, positives), confidence),
        pr_thresholds=_floats(pr_thresholds),
        precision=_floats(precision[:-1]),
        recall=_floats(recall[:-1]),
        precision_band=_band(tps[at], flagged, confidence),
        recall_band=_band(tps[at], np.full(at.shape, positives), confidence),
    )

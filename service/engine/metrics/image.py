"""Image-level metrics and curves. A sample is predicted anomalous when its score >= the threshold.

Curves are evaluated at every distinct score (exact, tie-aware: tied samples switch together). Thresholds for
recall, precision and FPR targets are chosen in `targets`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from service.engine.metrics._validation import (
    labels_and_scores,
    require_both_classes,
    require_positives,
)


@dataclass(frozen=True)
class Confusion:
    """Counts at one threshold. Ratios whose denominator is zero are 0.0."""

    tp: int
    fp: int
    tn: int
    fn: int

    @staticmethod
    def _ratio(numerator: int, denominator: int) -> float:
        return numerator / denominator if denominator else 0.0

    @property
    def precision(self) -> float:
        return self._ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float:
        return self._ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float:
        return self._ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn)

    @property
    def fpr(self) -> float:
        return self._ratio(self.fp, self.fp + self.tn)

    @property
    def accuracy(self) -> float:
        return self._ratio(self.tp + self.tn, self.tp + self.fp + self.tn + self.fn)


@dataclass(frozen=True)
class _Counts:
    """Cumulative counts at each distinct score, thresholds descending."""

    thresholds: np.ndarray
    tps: np.ndarray
    fps: np.ndarray
    positives: int
    negatives: int


def _counts(labels: Any, scores: Any) -> _Counts:
    flat_labels, flat_scores = labels_and_scores(labels, scores)
    order = np.argsort(-flat_scores, kind="stable")
    sorted_scores, sorted_labels = flat_scores[order], flat_labels[order]
    last_of_each_value = np.r_[np.flatnonzero(np.diff(sorted_scores)), sorted_scores.size - 1]
    tps = np.cumsum(sorted_labels)[last_of_each_value]
    fps = (last_of_each_value + 1) - tps
    positives = int(flat_labels.sum())
    return _Counts(sorted_scores[last_of_each_value], tps, fps, positives, flat_labels.size - positives)


def confusion_at(labels: Any, scores: Any, threshold: float) -> Confusion:
    flat_labels, flat_scores = labels_and_scores(labels, scores)
    predicted = flat_scores >= threshold
    tp = int(np.sum(predicted & flat_labels))
    fp = int(np.sum(predicted & ~flat_labels))
    fn = int(np.sum(~predicted & flat_labels))
    return Confusion(tp=tp, fp=fp, tn=flat_labels.size - tp - fp - fn, fn=fn)


def roc_curve(labels: Any, scores: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fpr, tpr, thresholds), thresholds descending, starting at (0, 0) with threshold +inf. Needs both classes."""
    counts = _counts(labels, scores)
    require_both_classes(counts.positives, counts.negatives, "ROC")
    fpr = np.r_[0.0, counts.fps / counts.negatives]
    tpr = np.r_[0.0, counts.tps / counts.positives]
    return fpr, tpr, np.r_[np.inf, counts.thresholds]


def pr_curve(labels: Any, scores: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(precision, recall, thresholds), thresholds ascending; precision and recall end with an extra (1, 0) point
    that has no threshold. Points below the lowest threshold reaching full recall are dropped. Needs anomalous samples.
    """
    counts = _counts(labels, scores)
    require_positives(counts.positives, "precision-recall curve")
    stop = int(np.searchsorted(counts.tps, counts.positives)) + 1
    tps, fps = counts.tps[:stop], counts.fps[:stop]
    precision = tps / (tps + fps)
    recall = tps / counts.positives
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], counts.thresholds[:stop][::-1]


def image_auroc(labels: Any, scores: Any) -> float:
    """Area under the ROC curve; ties count one half (Mann-Whitney). Needs both classes."""
    flat_labels, flat_scores = labels_and_scores(labels, scores)
    positives = int(flat_labels.sum())
    require_both_classes(positives, flat_labels.size - positives, "AUROC")
    return rank_auroc(flat_scores[flat_labels], flat_scores[~flat_labels])


def rank_auroc(positive_scores: np.ndarray, negative_scores: np.ndarray) -> float:
    """P(positive > negative) + P(tie) / 2, in O(n log n) memory-lean form: only the negatives are sorted."""
    negatives = np.sort(negative_scores, kind="stable")
    below = np.searchsorted(negatives, positive_scores, side="left").astype(np.float64)
    at_or_below = np.searchsorted(negatives, positive_scores, side="right").astype(np.float64)
    return float(np.sum(below + at_or_below) / (2.0 * negatives.size * positive_scores.size))


def average_precision(labels: Any, scores: Any) -> float:
    """Sum over thresholds of precision times recall gained (step-wise, no interpolation). Needs anomalous samples."""
    precision, recall, _ = pr_curve(labels, scores)
    return float(-np.sum(np.diff(recall) * precision[:-1]))


def f1_max(labels: Any, scores: Any) -> tuple[float, float]:
    """Best F1 over all thresholds and that threshold (the highest one when several tie). Needs anomalous samples."""
    counts = _counts(labels, scores)
    require_positives(counts.positives, "F1")
    f1 = 2 * counts.tps / (counts.tps + counts.fps + counts.positives)
    best = int(np.argmax(f1))
    return float(f1[best]), float(counts.thresholds[best])


def threshold_for_recall(labels: Any, scores: Any, target: float) -> tuple[float, float]:
    """Highest threshold whose recall >= target, and the precision there. Needs anomalous samples."""
    if not 0.0 < target <= 1.0:
        raise ValueError(f"target recall must be in (0, 1], got {target}")
    counts = _counts(labels, scores)
    require_positives(counts.positives, "recall")
    index = int(np.argmax(counts.tps / counts.positives >= target - 1e-12))
    return float(counts.thresholds[index]), float(counts.tps[index] / (counts.tps[index] + counts.fps[index]))

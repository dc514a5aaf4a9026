"""Choosing an image threshold that meets a target recall, precision or false-positive rate on scored test images.

The candidates are the distinct scores: threshold = a score flags every image scoring at least that much, so tied
images switch together and each candidate flags at least one image (a threshold above every score would meet any
FPR target by flagging nothing, which no one wants). A candidate meets the target when the rate measured on the test
images does or, given a `confidence`, when its one-sided Clopper-Pearson bound does (lower for recall and precision,
upper for FPR): then the rate on the next parts meets the target with that confidence.

Among the candidates that meet the target, the one chosen is the one a user would pick: for a recall target the
fewest false positives, and at that count the most recall; for precision and FPR targets the most recall, and at
that recall the fewest false positives. When no candidate meets the target, `TargetUnreachable` says what the best
one reaches, or, when even a perfect model could not meet the target with that confidence on this many test images,
how many are needed. Never a silent miss.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from service.engine.metrics import binomial
from service.engine.metrics.image import _Counts, _counts

_TOLERANCE = 1e-12


class TargetMetric(StrEnum):
    RECALL = "recall"
    PRECISION = "precision"
    FPR = "FPR"


class TargetUnreachable(ValueError):
    """No threshold meets the target; the message gives the best reachable value or the test images needed."""


@dataclass(frozen=True)
class TargetChoice:
    """The chosen candidate: its threshold (the lowest score it flags), counts, and the targeted rate."""

    threshold: float
    true_positives: int
    false_positives: int
    estimate: float
    bound: float | None
    """The one-sided Clopper-Pearson bound at the requested confidence; None without one."""


def _percent(confidence: float) -> str:
    return f"{100 * confidence:g} %"


def _check(metric: TargetMetric, target: float, confidence: float | None, counts: _Counts) -> None:
    low_ok = target >= 0.0 if metric is TargetMetric.FPR else target > 0.0
    if not (low_ok and target <= 1.0):
        interval = "[0, 1]" if metric is TargetMetric.FPR else "(0, 1]"
        raise ValueError(f"target {metric} must be in {interval}, got {target}")
    if confidence is not None and not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence}")
    if metric is TargetMetric.FPR and counts.negatives == 0:
        raise TargetUnreachable("the false-positive rate is undefined without normal test images")
    if metric is not TargetMetric.FPR and counts.positives == 0:
        raise TargetUnreachable(f"{metric} is undefined without anomalous test images")


def _rates(metric: TargetMetric, counts: _Counts, confidence: float | None) -> tuple[np.ndarray, np.ndarray]:
    """(estimate, the value compared with the target) at every candidate."""
    if metric is TargetMetric.RECALL:
        successes, trials = counts.tps, np.full(counts.tps.shape, counts.positives)
    elif metric is TargetMetric.PRECISION:
        successes, trials = counts.tps, counts.tps + counts.fps
    else:
        successes, trials = counts.fps, np.full(counts.fps.shape, counts.negatives)
    estimate = successes / trials
    if confidence is None:
        return estimate, estimate
    if metric is TargetMetric.FPR:
        return estimate, np.asarray(binomial.upper_bound(successes, trials, confidence))
    return estimate, np.asarray(binomial.lower_bound(successes, trials, confidence))


def _too_few_images(metric: TargetMetric, target: float, confidence: float, counts: _Counts) -> None:
    """Refuse when even a perfect model could not meet the target with this confidence on these test images."""
    if metric is TargetMetric.FPR:
        needed, have = binomial.trials_for_upper_bound(target, confidence), counts.negatives
        kind, claim = "normal", "<="
    else:
        needed, have = binomial.trials_for_lower_bound(target, confidence), counts.positives
        kind, claim = "anomalous", ">="
    if needed is None:
        raise TargetUnreachable(
            f"no finite test set supports {metric} {claim} {target:g} at {_percent(confidence)} confidence; "
            f"lower the target or drop the confidence"
        )
    if have < needed:
        raise TargetUnreachable(
            f"at least {needed} {kind} test images are needed to claim {metric} {claim} {target:g} at "
            f"{_percent(confidence)} confidence; this test set has {have}"
        )


def _recall_text(counts: _Counts, index: int) -> str:
    return f" at recall {counts.tps[index] / counts.positives:.3g}" if counts.positives else ""


def _unreachable(
    metric: TargetMetric, target: float, confidence: float | None, counts: _Counts, value: np.ndarray
) -> TargetUnreachable:
    best = int(np.argmin(value)) if metric is TargetMetric.FPR else int(np.argmax(value))
    highest_or_lowest = "lowest" if metric is TargetMetric.FPR else "highest"
    claim = "<=" if metric is TargetMetric.FPR else ">="
    if confidence is None:
        reached = f"the {highest_or_lowest} {metric} reachable is {value[best]:.3g}{_recall_text(counts, best)}"
    else:
        side = "upper" if metric is TargetMetric.FPR else "lower"
        reached = (
            f"the {highest_or_lowest} {side} bound of {metric} reachable at {_percent(confidence)} confidence is "
            f"{value[best]:.3g}{_recall_text(counts, best)}"
        )
    return TargetUnreachable(f"no threshold reaches {metric} {claim} {target:g}: {reached}")


def choose_threshold(
    labels: Any, scores: Any, metric: TargetMetric, target: float, confidence: float | None = None
) -> TargetChoice:
    """The candidate meeting `target` that a user would pick (see the module docstring); TargetUnreachable if none."""
    metric = TargetMetric(metric)
    counts = _counts(labels, scores)
    _check(metric, target, confidence, counts)
    if confidence is not None:
        _too_few_images(metric, target, confidence, counts)
    estimate, value = _rates(metric, counts, confidence)
    meets = value <= target + _TOLERANCE if metric is TargetMetric.FPR else value >= target - _TOLERANCE
    if not meets.any():
        raise _unreachable(metric, target, confidence, counts, value)
    indices = np.flatnonzero(meets)
    if metric is TargetMetric.RECALL:
        # Fewest false positives first, then the most recall: np.lexsort sorts by its last key first.
        index = int(indices[np.lexsort((-counts.tps[indices], counts.fps[indices]))[0]])
    else:
        index = int(indices[np.lexsort((counts.fps[indices], -counts.tps[indices]))[0]])
    return TargetChoice(
        threshold=float(counts.thresholds[index]),
        true_positives=int(counts.tps[index]),
        false_positives=int(counts.fps[index]),
        estimate=float(estimate[index]),
        bound=None if confidence is None else float(value[index]),
    )

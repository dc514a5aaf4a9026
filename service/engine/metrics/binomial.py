"""Clopper-Pearson ("exact") confidence bounds for a rate measured as `successes` out of `trials`.

Recall, precision and false-positive rate on a test set are such rates, so these bounds say how far the rate on the
next parts can fall from the rate measured on the test images. Bounds come from scipy's beta distribution; nothing
here is approximated. `confidence` is the probability that the true rate lies within the bound (e.g. 0.95). Inputs
may be numbers or numpy arrays of the same shape; a zero-trial rate has no bound and raises ValueError.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.stats import beta


def _counts(successes: Any, trials: Any, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence}")
    k, n = np.asarray(successes, dtype=np.float64), np.asarray(trials, dtype=np.float64)
    if np.any(n <= 0) or np.any(k < 0) or np.any(k > n):
        raise ValueError("a rate needs 0 <= successes <= trials and at least one trial")
    return k, n


def _result(values: np.ndarray) -> Any:
    return float(values) if values.ndim == 0 else values


def lower_bound(successes: Any, trials: Any, confidence: float) -> Any:
    """One-sided lower bound: the true rate is at least this with probability `confidence` (0 when k = 0)."""
    k, n = _counts(successes, trials, confidence)
    with np.errstate(invalid="ignore"):
        bound = beta.ppf(1.0 - confidence, np.maximum(k, 1.0), n - k + 1.0)
    return _result(np.where(k == 0, 0.0, bound))


def upper_bound(successes: Any, trials: Any, confidence: float) -> Any:
    """One-sided upper bound: the true rate is at most this with probability `confidence` (1 when k = n)."""
    k, n = _counts(successes, trials, confidence)
    with np.errstate(invalid="ignore"):
        bound = beta.ppf(confidence, k + 1.0, np.maximum(n - k, 1.0))
    return _result(np.where(k == n, 1.0, bound))


def interval(successes: Any, trials: Any, confidence: float) -> tuple[Any, Any]:
    """Two-sided interval holding the true rate with probability `confidence` (each side gets half the rest)."""
    side = 1.0 - (1.0 - confidence) / 2.0
    return lower_bound(successes, trials, side), upper_bound(successes, trials, side)


def trials_for_lower_bound(target: float, confidence: float) -> int | None:
    """Fewest trials that, all successes, give a lower bound >= target; None when no number can (target 1)."""
    _counts(0, 1, confidence)
    if target <= 0.0:
        return 1
    if target >= 1.0:
        return None
    # All successes: the lower bound is (1 - confidence) ** (1 / n).
    needed = max(1, math.ceil(math.log(1.0 - confidence) / math.log(target) - 1e-9))
    while lower_bound(needed, needed, confidence) < target:
        needed += 1
    return needed


def trials_for_upper_bound(target: float, confidence: float) -> int | None:
    """Fewest trials that, no successes, give an upper bound <= target; None when no number can (target 0)."""
    return trials_for_lower_bound(1.0 - target, confidence)

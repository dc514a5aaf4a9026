"""Input checks shared by the metrics: numpy or torch in, flat float64 scores and bool labels out."""

from __future__ import annotations

from typing import Any

import numpy as np


def as_numpy(values: Any) -> np.ndarray:
    """Accept numpy arrays, torch tensors (any device) and sequences without importing torch here."""
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    return np.asarray(values)


def as_labels(values: Any) -> np.ndarray:
    labels = as_numpy(values)
    if labels.dtype != np.bool_:
        if labels.size and not np.isin(labels, (0, 1)).all():
            raise ValueError("labels must be 0 (normal) or 1 (anomalous)")
        labels = labels.astype(bool)
    return labels


def as_scores(values: Any, dtype: type = np.float64) -> np.ndarray:
    scores = as_numpy(values)
    if not np.issubdtype(scores.dtype, np.number) or np.issubdtype(scores.dtype, np.complexfloating):
        raise ValueError(f"scores must be real numbers, got dtype {scores.dtype}")
    scores = scores.astype(dtype, copy=False)
    if not np.isfinite(scores).all():
        raise ValueError("scores contain NaN or infinity")
    return scores


def labels_and_scores(labels: Any, scores: Any) -> tuple[np.ndarray, np.ndarray]:
    """Flat, equally long, non-empty labels and scores."""
    flat_labels, flat_scores = as_labels(labels).reshape(-1), as_scores(scores).reshape(-1)
    if flat_labels.shape != flat_scores.shape:
        raise ValueError(f"labels ({flat_labels.size}) and scores ({flat_scores.size}) differ in length")
    if flat_labels.size == 0:
        raise ValueError("no samples")
    return flat_labels, flat_scores


def require_both_classes(positives: int, negatives: int, metric: str) -> None:
    if positives == 0 or negatives == 0:
        raise ValueError(f"{metric} is undefined when only one class is present")


def require_positives(positives: int, metric: str) -> None:
    if positives == 0:
        raise ValueError(f"{metric} is undefined without anomalous samples")


def require_negatives(negatives: int, metric: str) -> None:
    if negatives == 0:
        raise ValueError(f"{metric} is undefined without normal samples")

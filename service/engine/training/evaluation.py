"""Evaluation of a trained model on its validation images: per-image scores and the metrics AWS reports and more."""

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from service.engine import metrics
from service.engine.data import ImageRecord
from service.engine.normalised import NORMALISED_THRESHOLD


@dataclass(frozen=True)
class ImageEvaluation:
    """One validation image: its raw model score, the normalised score (threshold 0.5) and the verdict."""

    name: str
    label: int
    raw_score: float
    score: float
    is_anomalous: bool


@dataclass(frozen=True)
class Evaluation:
    """Per-image results and metrics. A metric is None where it is undefined (e.g. AUROC with normal images only,
    pixel metrics without ground-truth masks)."""

    images: list[ImageEvaluation]
    metrics: dict[str, float | int | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"metrics": dict(self.metrics), "images": [asdict(image) for image in self.images]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Evaluation":
        return cls(images=[ImageEvaluation(**image) for image in data["images"]], metrics=dict(data["metrics"]))


def _defined(metric: Callable[..., Any], *args: Any) -> Any:
    """The metric's value, or None where the metrics module declares it undefined for this data."""
    try:
        return metric(*args)
    except ValueError:
        return None


def _image_metrics(labels: np.ndarray, raw_scores: np.ndarray, scores: np.ndarray) -> dict[str, float | int | None]:
    confusion = metrics.confusion_at(labels, scores, NORMALISED_THRESHOLD)
    has_anomalies = bool(labels.any())
    return {
        "image_auroc": _defined(metrics.image_auroc, labels, raw_scores),
        "average_precision": _defined(metrics.average_precision, labels, raw_scores),
        "f1": confusion.f1 if has_anomalies else None,
        "precision": confusion.precision if has_anomalies else None,
        "recall": confusion.recall if has_anomalies else None,
        "false_positive_rate": confusion.fpr if not labels.all() else None,
        "accuracy": confusion.accuracy,
        "true_positives": confusion.tp,
        "false_positives": confusion.fp,
        "true_negatives": confusion.tn,
        "false_negatives": confusion.fn,
    }


def _pixel_metrics(
    records: Sequence[ImageRecord], maps: np.ndarray, masks: np.ndarray
) -> dict[str, float | int | None]:
    """Pixel AUROC and AUPRO over the images whose ground truth is known: normal ones and anomalous ones with a mask.

    Raw maps are used: score normalisation clips to [0, 1], and the ties it creates would distort the rankings.
    """
    known = np.array([record.label == 0 or record.mask is not None for record in records])
    if not any(record.label == 1 and record.mask is not None for record in records):
        return {"pixel_auroc": None, "aupro": None}
    return {
        "pixel_auroc": _defined(metrics.pixel_auroc, masks[known], maps[known]),
        "aupro": _defined(metrics.aupro, masks[known], maps[known]),
    }


def evaluate(
    records: Sequence[ImageRecord],
    raw_scores: np.ndarray,
    scores: np.ndarray,
    raw_maps: np.ndarray,
    masks: np.ndarray,
) -> Evaluation:
    """Evaluate validation outputs given in the order of `records`: scores (N,) raw and normalised, maps and masks
    (N, H, W)."""
    labels = np.array([record.label for record in records], dtype=np.int64)
    images = [
        ImageEvaluation(
            name=record.name or str(index),
            label=int(record.label),
            raw_score=float(raw),
            score=float(score),
            is_anomalous=bool(score >= NORMALISED_THRESHOLD),
        )
        for index, (record, raw, score) in enumerate(zip(records, raw_scores, scores, strict=True))
    ]
    return Evaluation(
        images=images,
        metrics={**_image_metrics(labels, raw_scores, scores), **_pixel_metrics(records, raw_maps, masks)},
    )

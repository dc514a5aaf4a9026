"""Score normalisation: makes every model's scores comparable and its threshold sit at 0.5.

Stats come from validation data. A raw value x becomes clip((x - threshold) / (max - min) + 0.5, 0, 1), with the
image threshold/min/max for image scores and the pixel ones for maps (anomalib's min-max normalisation). The
normaliser is a module with its stats in buffers, so it travels in checkpoints and exports to ONNX as plain ops.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import torch
from torch import nn

from service.engine.metrics import f1_max, pixel_f1_max
from service.engine.metrics._validation import as_labels, as_numpy, as_scores
from service.engine.normalised import NORMALISED_THRESHOLD
from service.engine.types import InferenceBatch

NORMAL_ONLY_QUANTILE = 0.99
"""Without anomalous validation images, the image threshold is this quantile of the normal images' scores."""


@dataclass(frozen=True)
class NormalizationStats:
    """Thresholds and ranges in raw model units."""

    image_threshold: float
    pixel_threshold: float
    min_score: float
    max_score: float
    min_pixel: float
    max_pixel: float

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{field.name} must be a finite number, got {value!r}")
        if self.min_score > self.max_score or self.min_pixel > self.max_pixel:
            raise ValueError("minimum above maximum in normalisation stats")

    def to_dict(self) -> dict[str, float]:
        return {key: float(value) for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NormalizationStats:
        names = {field.name for field in fields(cls)}
        missing, unknown = names - data.keys(), data.keys() - names
        if missing or unknown:
            raise ValueError(f"bad normalisation stats: missing {sorted(missing)}, unknown {sorted(unknown)}")
        return cls(**{name: float(data[name]) for name in names})


def _image_threshold(scores: np.ndarray, labels: np.ndarray) -> float:
    """F1-optimal threshold moved halfway down to the next lower score (same decisions on the validation set, more
    margin for unseen anomalies); a high quantile of normal scores when there are no anomalous images.
    """
    if not labels.any():
        return float(np.quantile(scores, NORMAL_ONLY_QUANTILE))
    _, threshold = f1_max(labels, scores)
    lower = scores[scores < threshold]
    return float((threshold + lower.max()) / 2) if lower.size else threshold


def compute_stats(image_scores: Any, labels: Any, anomaly_maps: Any, masks: Any | None = None) -> NormalizationStats:
    """Stats from validation outputs: image scores (N,), labels (N,) 0/1, maps (N, H, W), masks (N, H, W) or None.

    The pixel threshold is F1-optimal over the pixels of normal images and of anomalous images whose mask is not
    empty (an anomalous image without a mask is unannotated, not defect-free). Without any defect pixel it equals the
    image threshold. Raises ValueError without normal images.
    """
    scores = as_scores(image_scores).reshape(-1)
    flags = as_labels(labels).reshape(-1)
    maps = as_scores(as_numpy(anomaly_maps), dtype=np.float32)
    if not (scores.size == flags.size == maps.shape[0]) or scores.size == 0:
        raise ValueError(f"got {scores.size} scores, {flags.size} labels and {maps.shape[0]} maps")
    if flags.all():
        raise ValueError("normalisation needs normal validation images")
    image_threshold = _image_threshold(scores, flags)
    pixel_threshold = image_threshold
    if masks is not None:
        defect = as_numpy(masks) != 0
        if defect.shape != maps.shape:
            raise ValueError(f"masks {defect.shape} and maps {maps.shape} differ in shape")
        annotated = ~flags | defect.reshape(defect.shape[0], -1).any(axis=1)
        if defect[annotated].any():
            _, pixel_threshold = pixel_f1_max(defect[annotated], maps[annotated])
    return NormalizationStats(
        image_threshold=image_threshold,
        pixel_threshold=float(pixel_threshold),
        min_score=float(scores.min()),
        max_score=float(scores.max()),
        min_pixel=float(maps.min()),
        max_pixel=float(maps.max()),
    )


def normalize(values: torch.Tensor, threshold: torch.Tensor, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """Min-max normalisation with the threshold moved to 0.5, clipped to [0, 1]; pure tensor ops."""
    span = torch.clamp(high - low, min=torch.finfo(torch.float32).eps)
    normalized = (values - threshold.to(values.dtype)) / span.to(values.dtype) + NORMALISED_THRESHOLD
    return torch.clamp(normalized, 0.0, 1.0)


class ScoreNormalizer(nn.Module):
    """Maps a raw `InferenceBatch` to a normalised one. Without stats it is the identity on [0, 1] (threshold 0.5,
    range [0, 1]), so it can be built first and filled later by `set_stats` or `load_state_dict`.
    """

    image_threshold: torch.Tensor
    pixel_threshold: torch.Tensor
    min_score: torch.Tensor
    max_score: torch.Tensor
    min_pixel: torch.Tensor
    max_pixel: torch.Tensor

    def __init__(self, stats: NormalizationStats | None = None) -> None:
        super().__init__()
        defaults = stats or NormalizationStats(NORMALISED_THRESHOLD, NORMALISED_THRESHOLD, 0.0, 1.0, 0.0, 1.0)
        for name, value in defaults.to_dict().items():
            self.register_buffer(name, torch.tensor(value, dtype=torch.float32))

    def set_stats(self, stats: NormalizationStats) -> None:
        for name, value in stats.to_dict().items():
            getattr(self, name).fill_(value)

    @property
    def stats(self) -> NormalizationStats:
        return NormalizationStats(
            **{field.name: float(getattr(self, field.name)) for field in fields(NormalizationStats)}
        )

    def forward(self, batch: InferenceBatch) -> InferenceBatch:
        return InferenceBatch(
            pred_score=normalize(batch.pred_score, self.image_threshold, self.min_score, self.max_score),
            anomaly_map=normalize(batch.anomaly_map, self.pixel_threshold, self.min_pixel, self.max_pixel),
        )

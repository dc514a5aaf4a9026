"""Score normalisation: makes every model's scores comparable and its threshold sit at 0.5.

Stats come from validation data (the test set a model is evaluated and its thresholds tuned on), with the image
threshold/min/max for image scores and the pixel ones for maps. Two scales exist (`ScoreScale`):

- UNSATURATED (every model trained since issue 17): strictly increasing, so distinct raw scores never share a
  normalised one. Piecewise linear inside the validation range: min -> 0.1, threshold -> 0.5, max -> 0.9; beyond it
  rational tails 0.5 +/- (0.5 - 0.1 / (1 + 4 u)), u the distance past the range in units of that side's span, which
  meet the linear parts with the same slope and approach 0 and 1 without reaching them. (A logistic tail would round
  to 1.0 in float32 a few spans out; this one still tells scores apart a thousand spans out.)
- CLIPPED (models trained before): clip((x - threshold) / (max - min) + 0.5, 0, 1), anomalib's min-max
  normalisation. It maps every score far enough above the threshold onto 1.0, so no threshold separates them; it is
  kept only so that old checkpoints re-export the graph their stored thresholds were chosen on.

The normaliser is a module with its stats in buffers, so it travels in checkpoints and exports to ONNX as plain ops.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from typing import Any

import numpy as np
import torch
from torch import nn

from service.engine.metrics import f1_max, pixel_f1_max
from service.engine.metrics._validation import as_labels, as_numpy, as_scores
from service.engine.normalised import NORMALISED_THRESHOLD
from service.engine.types import InferenceBatch


class ScoreScale(StrEnum):
    UNSATURATED = "unsaturated"
    CLIPPED = "clipped"


LEGACY_SCALE = ScoreScale.CLIPPED
"""The scale of checkpoints and metadata that name none: everything saved before the scale was recorded."""

RANGE_LOW = 0.1
"""Where the UNSATURATED scale puts the validation minimum; the maximum goes to 1 - RANGE_LOW."""

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


def normalize_clipped(
    values: torch.Tensor, threshold: torch.Tensor, low: torch.Tensor, high: torch.Tensor
) -> torch.Tensor:
    """The CLIPPED scale: min-max normalisation with the threshold moved to 0.5, clipped to [0, 1]."""
    span = torch.clamp(high - low, min=torch.finfo(torch.float32).eps)
    normalized = (values - threshold.to(values.dtype)) / span.to(values.dtype) + NORMALISED_THRESHOLD
    return torch.clamp(normalized, 0.0, 1.0)


def normalize_unsaturated(
    values: torch.Tensor, threshold: torch.Tensor, low: torch.Tensor, high: torch.Tensor
) -> torch.Tensor:
    """The UNSATURATED scale (see the module docstring); pure tensor ops. A side whose span is empty (threshold at the
    minimum or maximum) borrows the whole range, or 1 when that is empty too.
    """
    eps = torch.finfo(torch.float32).eps
    threshold, low, high = (stat.to(values.dtype) for stat in (threshold, low, high))
    whole = torch.where(high - low > eps, high - low, torch.ones_like(high))
    below = torch.where(threshold - low > eps, threshold - low, whole)
    above = torch.where(high - threshold > eps, high - threshold, whole)
    offset = values - threshold
    distance = torch.where(offset >= 0, offset / above, offset / below)
    magnitude = distance.abs()
    half_width = 0.5 - RANGE_LOW
    linear = half_width * magnitude
    beyond = torch.clamp(magnitude - 1.0, min=0.0)
    tail = 0.5 - RANGE_LOW / (1.0 + (half_width / RANGE_LOW) * beyond)
    return NORMALISED_THRESHOLD + torch.sign(distance) * torch.where(magnitude <= 1.0, linear, tail)


_SCALES = {ScoreScale.UNSATURATED: normalize_unsaturated, ScoreScale.CLIPPED: normalize_clipped}


class ScoreNormalizer(nn.Module):
    """Maps a raw `InferenceBatch` to a normalised one on `scale`. Without stats it is built with threshold 0.5 and
    range [0, 1], so it can be built first and filled later by `set_stats` or `load_state_dict`. The scale is not a
    buffer: it decides which ops are traced, and the checkpoint records it next to the stats.
    """

    image_threshold: torch.Tensor
    pixel_threshold: torch.Tensor
    min_score: torch.Tensor
    max_score: torch.Tensor
    min_pixel: torch.Tensor
    max_pixel: torch.Tensor

    def __init__(self, stats: NormalizationStats | None = None, scale: ScoreScale = ScoreScale.UNSATURATED) -> None:
        super().__init__()
        self.scale = ScoreScale(scale)
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
        normalize = _SCALES[self.scale]
        return InferenceBatch(
            pred_score=normalize(batch.pred_score, self.image_threshold, self.min_score, self.max_score),
            anomaly_map=normalize(batch.anomaly_map, self.pixel_threshold, self.min_pixel, self.max_pixel),
        )

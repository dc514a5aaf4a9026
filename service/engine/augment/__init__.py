"""Training-time augmentation: synthetic anomalies painted onto normal images, with their masks."""

from service.engine.augment.anomalies import AnomalyBatch, AnomalyConfig, SyntheticAnomalies
from service.engine.augment.noise import perlin_noise
from service.engine.augment.shapes import blob_masks, rectangle_masks, scratch_masks
from service.engine.augment.variation import vary_normal_images

__all__ = [
    "AnomalyBatch",
    "AnomalyConfig",
    "SyntheticAnomalies",
    "blob_masks",
    "perlin_noise",
    "rectangle_masks",
    "scratch_masks",
    "vary_normal_images",
]

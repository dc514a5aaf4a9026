"""From a model's normalised output to what DetectAnomalies reports: verdict, confidence, mask and its colours.

Confidence is the confidence in the verdict, not the anomaly score. With the normalised score s in [0, 1] and the
image threshold t, it is 0.5 at the threshold and grows linearly to 1.0 at the end of the score range on the
verdict's side:

    anomalous (s >= t):  0.5 + 0.5 * (s - t) / (1 - t)
    normal    (s <  t):  0.5 + 0.5 * (t - s) / t

so a score far from the threshold gives a confident verdict whichever way it goes, and moving the threshold moves
the point of least confidence with it.

Classes: a model trained on masks whose colour map names defect classes answers with those classes, their colours
and the background colour of its training masks (Lookout for Vision's multi-class segmentation); any other model
answers every defect as `anomaly`, red on white.
"""

import io
import time
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from PIL import Image

from service.engine.normalised import NORMALISED_THRESHOLD
from service.engine.palette import ClassPalette, DefectClass, hex_rgb
from service.engine.postprocess import ClassArea, postprocess

BACKGROUND_LABEL, BACKGROUND_COLOR = "background", "#FFFFFF"
ANOMALY_LABEL, ANOMALY_COLOR = "anomaly", "#FF0000"
PIXEL_THRESHOLD = NORMALISED_THRESHOLD
"""Pixel threshold of the normalised anomaly map: exported models place the validated pixel threshold there."""

UNCLASSIFIED = ClassPalette((DefectClass(ANOMALY_LABEL, ANOMALY_COLOR),), BACKGROUND_COLOR)
"""The palette of a model without classes."""


@dataclass(frozen=True)
class Verdict:
    """is_anomalous, confidence, anomaly_fraction (0..1), the mask PNG painted in the palette's colours, and each
    class the mask shows (area 0..100) with the background colour the answer names; `stages`: seconds spent on
    post-processing and on encoding the mask."""

    is_anomalous: bool
    confidence: float
    anomaly_fraction: float
    mask_png: bytes
    anomalies: tuple[ClassArea, ...]
    background_color: str
    stages: dict[str, float] = field(default_factory=dict)


def verdict_confidence(score: float, threshold: float) -> float:
    if score >= threshold:
        span = 1.0 - threshold
        return 1.0 if span <= 0 else min(1.0, 0.5 + 0.5 * (score - threshold) / span)
    return min(1.0, 0.5 + 0.5 * (threshold - score) / threshold)


def mask_png(class_mask: np.ndarray, palette: ClassPalette = UNCLASSIFIED) -> bytes:
    """A palette PNG of a uint8 (H, W) class mask (0 background, k the palette's k-th class) in the palette's
    colours (the ones `Anomalies` names): by default background white, anomaly red. It is stored with as few bits per
    pixel as the palette needs (1 bit for a model without classes) and the fastest zlib level.

    Most images a line sends are normal, and their masks are all background: that PNG is encoded once per image size
    and palette (0.1-0.35 ms an image otherwise, more right after a run has cooled the caches)."""
    if not class_mask.any():
        return _background_png(class_mask.shape, palette)
    return _encode_mask(class_mask, palette)


@lru_cache(maxsize=256)
def _background_png(shape: tuple[int, ...], palette: ClassPalette) -> bytes:
    return _encode_mask(np.zeros(shape, dtype=np.uint8), palette)


def _encode_mask(class_mask: np.ndarray, palette: ClassPalette) -> bytes:
    colours = [palette.background, *(defect.color for defect in palette.classes)]
    image = Image.fromarray(np.asarray(class_mask, dtype=np.uint8), mode="P")
    image.putpalette([channel for colour in colours for channel in hex_rgb(colour)])
    bits = next(depth for depth in (1, 2, 4, 8) if len(colours) <= 2**depth)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=1, bits=bits)
    return buffer.getvalue()


def judge(
    score: float,
    anomaly_map: np.ndarray,
    *,
    image_threshold: float,
    size: tuple[int, int],
    class_scores: np.ndarray | None = None,
    palette: ClassPalette | None = None,
) -> Verdict:
    """The verdict for one image of size (height, width); `palette` and `class_scores` (K, h, w) are the model's."""
    named = palette or UNCLASSIFIED
    started = time.perf_counter()
    detection = postprocess(
        np.float32(score),
        anomaly_map,
        image_threshold=image_threshold,
        pixel_threshold=PIXEL_THRESHOLD,
        original_size=size,
        class_scores=class_scores,
        palette=named,
    )
    judged = time.perf_counter()
    mask = mask_png(detection.class_mask, named)
    return Verdict(
        is_anomalous=detection.is_anomalous,
        confidence=verdict_confidence(detection.score, image_threshold),
        anomaly_fraction=detection.area_percentage / 100.0,
        mask_png=mask,
        anomalies=detection.classes,
        background_color=named.background,
        stages={"postprocess": judged - started, "mask": time.perf_counter() - judged},
    )

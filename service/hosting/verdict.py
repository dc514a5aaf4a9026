"""From a model's normalised output to what DetectAnomalies reports: verdict, confidence, mask and its colours.

Confidence is the confidence in the verdict, not the anomaly score. With the normalised score s in [0, 1] and the
image threshold t, it is 0.5 at the threshold and grows linearly to 1.0 at the end of the score range on the
verdict's side:

    anomalous (s >= t):  0.5 + 0.5 * (s - t) / (1 - t)
    normal    (s <  t):  0.5 + 0.5 * (t - s) / t

so a score far from the threshold gives a confident verdict whichever way it goes, and moving the threshold moves
the point of least confidence with it.
"""

import io

import numpy as np
from PIL import Image

from service.engine.normalised import NORMALISED_THRESHOLD
from service.engine.postprocess import postprocess

BACKGROUND_LABEL, BACKGROUND_COLOR = "background", "#FFFFFF"
ANOMALY_LABEL, ANOMALY_COLOR = "anomaly", "#FF0000"
PIXEL_THRESHOLD = NORMALISED_THRESHOLD
"""Pixel threshold of the normalised anomaly map: exported models place the validated pixel threshold there."""

_PALETTE = [255, 255, 255, 255, 0, 0]


def verdict_confidence(score: float, threshold: float) -> float:
    if score >= threshold:
        span = 1.0 - threshold
        return 1.0 if span <= 0 else min(1.0, 0.5 + 0.5 * (score - threshold) / span)
    return min(1.0, 0.5 + 0.5 * (threshold - score) / threshold)


def mask_png(mask: np.ndarray) -> bytes:
    """A palette PNG of a bool (H, W) mask: background white, anomaly red (the colours `Anomalies` names)."""
    image = Image.fromarray(mask.astype(np.uint8), mode="L").convert("P")
    image.putpalette(_PALETTE)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=1)
    return buffer.getvalue()


def judge(
    score: float, anomaly_map: np.ndarray, *, image_threshold: float, size: tuple[int, int]
) -> tuple[bool, float, float, bytes]:
    """(is_anomalous, confidence, anomaly_fraction, mask_png) for one image of size (height, width)."""
    detection = postprocess(
        np.float32(score),
        anomaly_map,
        image_threshold=image_threshold,
        pixel_threshold=PIXEL_THRESHOLD,
        original_size=size,
    )
    confidence = verdict_confidence(detection.score, image_threshold)
    return detection.is_anomalous, confidence, detection.area_percentage / 100.0, mask_png(detection.mask)

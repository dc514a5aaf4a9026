"""Turning a model's raw output for one image into what a caller shows: a verdict, a defect mask at the original
image size, boxes around defects and the affected area. Covers the three task types of OpenVINO Training Extensions'
anomaly tasks: classification (score, is_anomalous), detection (boxes) and segmentation (mask), and for a model with
defect classes which class each defect region is.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from PIL import Image
from scipy import ndimage

from service.engine.palette import ClassPalette

_EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


def _as_numpy(values: Any) -> np.ndarray:
    """Arrays, lists or torch tensors (duck-typed, so edge devices need no torch) as a numpy array."""
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    return np.asarray(values)


def _as_2d_float(anomaly_map: Any) -> np.ndarray:
    """One map as float32 (H, W); leading singleton axes ((1, H, W), (1, 1, H, W)) are dropped."""
    array = _as_numpy(anomaly_map).astype(np.float32, copy=False)
    while array.ndim > 2 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 2:
        raise ValueError(f"expected one (H, W) anomaly map, got shape {array.shape}")
    return array


@dataclass(frozen=True)
class Box:
    """Axis-aligned box around one connected defect region, in pixels of the mask it came from.

    area is the region's pixel count (not width * height); score is the highest map value inside the region when a
    map was given.
    """

    x: int
    y: int
    width: int
    height: int
    area: int
    score: float | None = None


@dataclass(frozen=True)
class ClassArea:
    """One defect class found in an image: its name and colour (the model's palette) and the share it covers."""

    name: str
    color: str
    area_percentage: float


@dataclass(frozen=True)
class Detection:
    """Everything the service reports for one image.

    class_mask: uint8 (H, W), 0 outside the mask and k where the mask shows the palette's k-th class (1 everywhere
    in the mask of a model without classes); classes: the palette's classes the mask shows, in palette order (empty
    without a palette). `boxes` are found on first use: labelling the regions is most of post-processing, and the
    service's answer (a mask) never asks for them.
    """

    score: float
    is_anomalous: bool
    mask: np.ndarray
    area_percentage: float
    anomaly_map: np.ndarray
    class_mask: np.ndarray
    classes: tuple[ClassArea, ...] = ()
    min_box_area: int = 1

    @cached_property
    def boxes(self) -> list[Box]:
        return bounding_boxes(self.mask, min_area=self.min_box_area, anomaly_map=self.anomaly_map)


def anomaly_mask(anomaly_map: Any, threshold: float) -> np.ndarray:
    """Bool (H, W) mask of pixels whose score >= threshold."""
    return _as_2d_float(anomaly_map) >= threshold


def peak_region(anomaly_map: Any) -> np.ndarray:
    """Bool (H, W) mask of the 8-connected region around the map's peak: pixels scoring at least halfway from the
    map's median up to its peak. Never empty (the peak pixel is always in it)."""
    scores = _as_2d_float(anomaly_map)
    peak_at = np.unravel_index(int(np.argmax(scores)), scores.shape)
    median = float(np.median(scores))
    level = median + 0.5 * (float(scores[peak_at]) - median)
    labelled, _ = ndimage.label(scores >= level, structure=_EIGHT_CONNECTED)
    return labelled == labelled[peak_at]


def bounding_boxes(mask: Any, min_area: int = 1, anomaly_map: Any | None = None) -> list[Box]:
    """One box per 8-connected region of at least `min_area` pixels, largest score (or area) first."""
    defect = np.asarray(mask, dtype=bool)
    if defect.ndim != 2:
        raise ValueError(f"expected one (H, W) mask, got shape {defect.shape}")
    scores = _as_2d_float(anomaly_map) if anomaly_map is not None else None
    if scores is not None and scores.shape != defect.shape:
        raise ValueError(f"mask {defect.shape} and anomaly map {scores.shape} differ in shape")
    labelled, count = ndimage.label(defect, structure=_EIGHT_CONNECTED)
    if count == 0:
        return []
    areas = np.bincount(labelled.reshape(-1), minlength=count + 1)
    peaks = ndimage.maximum(scores, labelled, index=np.arange(1, count + 1)) if scores is not None else None
    boxes = []
    for index, region in enumerate(ndimage.find_objects(labelled)):
        if region is None or areas[index + 1] < min_area:
            continue
        rows, cols = region
        boxes.append(
            Box(
                x=cols.start,
                y=rows.start,
                width=cols.stop - cols.start,
                height=rows.stop - rows.start,
                area=int(areas[index + 1]),
                score=float(peaks[index]) if peaks is not None else None,
            )
        )
    return sorted(boxes, key=lambda box: (box.score if box.score is not None else 0.0, box.area), reverse=True)


def affected_area_percentage(mask: Any) -> float:
    """Share of the image flagged as defect, 0..100."""
    defect = np.asarray(mask, dtype=bool)
    return float(100.0 * np.count_nonzero(defect) / defect.size) if defect.size else 0.0


def resize_map(anomaly_map: Any, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of one (H, W) map to size = (height, width), float32."""
    height, width = size
    if height <= 0 or width <= 0:
        raise ValueError(f"size must be positive (height, width), got {size}")
    array = _as_2d_float(anomaly_map)
    if array.shape == (height, width):
        return array.copy()
    resized = Image.fromarray(np.ascontiguousarray(array), mode="F").resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.float32)


def classify_regions(mask: np.ndarray, class_scores: Any | None, n_classes: int) -> np.ndarray:
    """uint8 (H, W) class mask: each 8-connected region of `mask` gets the class whose probabilities (K, h, w),
    resized to the mask, sum highest over it, so one defect is one class. One class (or no scores): the mask as 1s."""
    if n_classes <= 1 or class_scores is None:
        return mask.astype(np.uint8)
    labelled, count = ndimage.label(mask, structure=_EIGHT_CONNECTED)
    if count == 0:
        return np.zeros(mask.shape, dtype=np.uint8)
    scores = _as_numpy(class_scores)
    regions = np.arange(1, count + 1)
    votes = np.stack([ndimage.sum(resize_map(scores[k], mask.shape), labelled, regions) for k in range(n_classes)])
    lookup = np.concatenate([[0], np.argmax(votes, axis=0) + 1]).astype(np.uint8)
    return lookup[labelled]


def class_areas(class_mask: np.ndarray, palette: ClassPalette) -> tuple[ClassArea, ...]:
    """The palette's classes present in `class_mask`, each with its share of the image (0..100).

    One comparison per class: a 256 x 256 mask takes ~4 us a class, where `np.bincount` (which widens every pixel to
    64 bits first) takes ~165 us whatever the class count."""
    total = max(class_mask.size, 1)
    counts = [int(np.count_nonzero(class_mask == index)) for index in range(1, len(palette.classes) + 1)]
    return tuple(
        ClassArea(defect.name, defect.color, float(100.0 * count / total))
        for defect, count in zip(palette.classes, counts, strict=True)
        if count
    )


def postprocess(
    pred_score: Any,
    anomaly_map: Any,
    *,
    image_threshold: float,
    pixel_threshold: float,
    original_size: tuple[int, int],
    min_box_area: int = 1,
    class_scores: Any | None = None,
    palette: ClassPalette | None = None,
) -> Detection:
    """Verdict, mask, boxes and area for one image; original_size is (height, width).

    The map is resized back to the original image before thresholding. The mask, boxes and area of an image judged
    normal are empty, so a "normal" verdict never comes with highlighted defects; the resized map is kept either way.
    An image judged anomalous always has a mask: when no pixel reaches `pixel_threshold` (the image score and the
    pixel threshold are calibrated separately, so this happens), the mask is `peak_region` of the map, the region
    around its highest-scoring pixel. With a `palette` (and, for two or more classes, the graph's `class_scores`
    (K, h, w) for this image) each defect region is named by `classify_regions`.
    """
    scores = _as_numpy(pred_score).reshape(-1)
    if scores.size != 1:
        raise ValueError(f"expected one image score, got {scores.size}")
    score = float(scores[0])
    is_anomalous = score >= image_threshold
    full_map = resize_map(anomaly_map, original_size)
    mask = anomaly_mask(full_map, pixel_threshold) if is_anomalous else np.zeros(full_map.shape, dtype=bool)
    if is_anomalous and not mask.any():
        mask = peak_region(full_map)
    n_classes = len(palette.classes) if palette is not None else 1
    class_mask = classify_regions(mask, class_scores, n_classes)
    return Detection(
        score=score,
        is_anomalous=is_anomalous,
        mask=mask,
        area_percentage=affected_area_percentage(mask),
        anomaly_map=full_map,
        class_mask=class_mask,
        classes=class_areas(class_mask, palette) if palette is not None else (),
        min_box_area=min_box_area,
    )

"""Pixel-level metrics over stacks of anomaly maps, written to stay lean on memory for hundreds of 256x256 maps:
scores are never argsorted as a whole, and per-region work is done one image at a time.

Masks: nonzero = defect. Maps and masks: (N, H, W) or one (H, W), numpy or torch.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import ndimage

from service.engine.metrics._validation import as_numpy, as_scores, require_both_classes, require_negatives
from service.engine.metrics.image import rank_auroc

_EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


def _pixel_inputs(masks: Any, maps: Any) -> tuple[np.ndarray, np.ndarray]:
    raw_maps = as_numpy(maps)
    dtype = np.float32 if raw_maps.dtype in (np.float16, np.float32) else np.float64
    score_maps = as_scores(raw_maps, dtype=dtype)
    mask_stack = as_numpy(masks) != 0
    if mask_stack.shape != score_maps.shape:
        raise ValueError(f"masks {mask_stack.shape} and maps {score_maps.shape} differ in shape")
    if score_maps.ndim == 2:
        score_maps, mask_stack = score_maps[None], mask_stack[None]
    if score_maps.ndim != 3 or score_maps.size == 0:
        raise ValueError(f"expected non-empty (N, H, W) maps, got shape {score_maps.shape}")
    return mask_stack, score_maps


def pixel_auroc(masks: Any, maps: Any) -> float:
    """AUROC over all pixels of all maps (ties count one half). Needs defect and normal pixels."""
    mask_stack, score_maps = _pixel_inputs(masks, maps)
    positives = int(mask_stack.sum())
    require_both_classes(positives, mask_stack.size - positives, "pixel AUROC")
    return rank_auroc(score_maps[mask_stack], score_maps[~mask_stack])


def _ge_and_gt_histograms(
    scores: np.ndarray, thresholds: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Bin index i means the score is >= (first array) / > (second array) exactly the i lowest thresholds."""
    bins = thresholds.size + 1
    at_or_above = np.bincount(np.searchsorted(thresholds, scores, side="right"), weights, minlength=bins)
    above = np.bincount(np.searchsorted(thresholds, scores, side="left"), weights, minlength=bins)
    return at_or_above.astype(np.float64), above.astype(np.float64)


def _reaching(histogram: np.ndarray) -> np.ndarray:
    """Histogram from `_ge_and_gt_histograms` -> per threshold, the total of scores reaching it."""
    return np.cumsum(histogram[::-1])[::-1][1:]


def _aupro_thresholds(negative_scores: np.ndarray, fpr_limit: float, max_thresholds: int) -> np.ndarray:
    """Ascending thresholds: every distinct value among the normal pixels that cover the FPR range when there are
    few enough (the result is then exact), else values evenly spaced in FPR. The lowest one reaches fpr_limit.
    """
    count = negative_scores.size
    needed = min(count, max(1, math.ceil(fpr_limit * count - 1e-9)))
    negative_scores.partition(count - needed)
    top = np.sort(negative_scores[count - needed :])
    distinct = np.unique(top)
    if distinct.size <= max_thresholds:
        return distinct
    return np.unique(top[np.linspace(0, needed - 1, max_thresholds).round().astype(np.int64)])


def _area_up_to(x: np.ndarray, y: np.ndarray, limit: float) -> float:
    """Trapezoidal area under the polyline (x non-decreasing, reaching limit) between x[0] and limit."""
    end = int(np.searchsorted(x, limit, side="right"))
    xs, ys = x[:end], y[:end]
    if end < x.size:
        x0, x1, y0, y1 = x[end - 1], x[end], y[end - 1], y[end]
        xs, ys = np.r_[xs, limit], np.r_[ys, y0 + (y1 - y0) * (limit - x0) / (x1 - x0)]
    return float(np.trapezoid(ys, xs))


def aupro(masks: Any, maps: Any, fpr_limit: float = 0.3, max_thresholds: int = 10_000) -> float:
    """Area under the per-region-overlap curve up to `fpr_limit` false-positive rate, divided by `fpr_limit` (MVTec
    AD's AUPRO, in [0, 1]).

    PRO at a threshold is the mean, over every connected defect region (8-connected, over all maps), of the fraction of
    that region at or above the threshold; the FPR counts all normal pixels. The curve is exact when the normal pixels
    in the FPR range hold at most `max_thresholds` distinct values, otherwise sampled at that many FPR-spaced points
    (error below 1 / max_thresholds). Needs at least one defect region and one normal pixel.
    """
    if not 0.0 < fpr_limit <= 1.0:
        raise ValueError(f"fpr_limit must be in (0, 1], got {fpr_limit}")
    mask_stack, score_maps = _pixel_inputs(masks, maps)
    negatives = int(mask_stack.size - mask_stack.sum())
    require_negatives(negatives, "AUPRO")
    thresholds = _aupro_thresholds(score_maps[~mask_stack], fpr_limit, max_thresholds)
    false_ge = np.zeros(thresholds.size + 1)
    false_gt = np.zeros(thresholds.size + 1)
    overlap_ge = np.zeros(thresholds.size + 1)
    overlap_gt = np.zeros(thresholds.size + 1)
    regions = 0
    for mask, score_map in zip(mask_stack, score_maps):
        ge, gt = _ge_and_gt_histograms(score_map[~mask], thresholds)
        false_ge += ge
        false_gt += gt
        labelled, count = ndimage.label(mask, structure=_EIGHT_CONNECTED)
        if count == 0:
            continue
        region_of_pixel = labelled[mask]
        weights = 1.0 / np.bincount(region_of_pixel)[region_of_pixel]
        ge, gt = _ge_and_gt_histograms(score_map[mask], thresholds, weights)
        overlap_ge += ge
        overlap_gt += gt
        regions += count
    if regions == 0:
        raise ValueError("AUPRO is undefined without defect regions")
    # Walk thresholds from high to low; at each one the curve jumps from "> t" to ">= t" (a diagonal when ties).
    fpr = np.column_stack([_reaching(false_gt), _reaching(false_ge)])[::-1].reshape(-1) / negatives
    pro = np.column_stack([_reaching(overlap_gt), _reaching(overlap_ge)])[::-1].reshape(-1) / regions
    return _area_up_to(np.r_[0.0, fpr], np.r_[0.0, pro], fpr_limit) / fpr_limit


def _candidate_thresholds(positive_scores: np.ndarray, all_scores: np.ndarray, max_thresholds: int) -> np.ndarray:
    distinct = np.unique(all_scores)
    if distinct.size <= max_thresholds:
        return distinct
    levels = np.linspace(0.0, 1.0, max_thresholds // 2)
    return np.unique(
        np.r_[
            np.quantile(positive_scores, levels, method="inverted_cdf"),
            np.quantile(all_scores, levels, method="inverted_cdf"),
        ]
    )


def pixel_f1_max(masks: Any, maps: Any, max_thresholds: int = 4_000) -> tuple[float, float]:
    """Best pixel F1 and its threshold (highest on ties). Exact when the maps hold at most `max_thresholds` distinct
    values, otherwise searched over quantiles of the defect pixels and of all pixels. Needs defect pixels.
    """
    mask_stack, score_maps = _pixel_inputs(masks, maps)
    positives = int(mask_stack.sum())
    if positives == 0:
        raise ValueError("pixel F1 is undefined without defect pixels")
    thresholds = _candidate_thresholds(score_maps[mask_stack], score_maps.reshape(-1), max_thresholds)
    true_hits = np.zeros(thresholds.size + 1)
    false_hits = np.zeros(thresholds.size + 1)
    for mask, score_map in zip(mask_stack, score_maps):
        true_hits += np.bincount(
            np.searchsorted(thresholds, score_map[mask], side="right"), minlength=thresholds.size + 1
        )
        false_hits += np.bincount(
            np.searchsorted(thresholds, score_map[~mask], side="right"), minlength=thresholds.size + 1
        )
    tp, fp = _reaching(true_hits), _reaching(false_hits)
    f1 = 2 * tp / (tp + fp + positives)
    best = int(np.flatnonzero(f1 == f1.max())[-1])
    return float(f1[best]), float(thresholds[best])

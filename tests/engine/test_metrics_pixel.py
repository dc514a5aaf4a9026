import numpy as np
import pytest
import torch
from scipy import ndimage
from torchmetrics.functional.classification import binary_auroc

from service.engine.metrics import aupro, pixel_auroc, pixel_f1_max


def _maps_with_defects(seed: int, n: int = 6, size: int = 24, quantise: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    masks = np.zeros((n, size, size), dtype=np.uint8)
    for index in range(1, n):
        for _ in range(int(rng.integers(1, 3))):
            y, x = rng.integers(0, size - 6, 2)
            h, w = rng.integers(2, 7, 2)
            masks[index, y : y + h, x : x + w] = 1
    maps = rng.normal(size=masks.shape) + 1.5 * masks
    if quantise:
        maps = np.round(maps * 2) / 2
    return masks, maps.astype(np.float32)


def _brute_force_aupro(masks: np.ndarray, maps: np.ndarray, fpr_limit: float) -> float:
    """Straight from the definition: every distinct score as a threshold, regions from scipy, trapezoid to the limit."""
    regions = []
    for mask, score_map in zip(masks, maps):
        labelled, count = ndimage.label(mask, structure=np.ones((3, 3)))
        regions += [score_map[labelled == region] for region in range(1, count + 1)]
    normal = maps[masks == 0]
    fprs, pros = [0.0], [0.0]
    for threshold in np.unique(maps)[::-1]:
        fprs.append(float(np.mean(normal >= threshold)))
        pros.append(float(np.mean([np.mean(region >= threshold) for region in regions])))
    fprs_array, pros_array = np.array(fprs), np.array(pros)
    keep = fprs_array <= fpr_limit
    x, y = list(fprs_array[keep]), list(pros_array[keep])
    crossing = int(np.argmax(~keep))
    x0, x1, y0, y1 = fprs_array[crossing - 1], fprs_array[crossing], pros_array[crossing - 1], pros_array[crossing]
    x.append(fpr_limit)
    y.append(y0 + (y1 - y0) * (fpr_limit - x0) / (x1 - x0))
    return float(np.trapezoid(y, x) / fpr_limit)


@pytest.mark.parametrize(("seed", "quantise", "fpr_limit"), [(0, False, 0.3), (1, True, 0.3), (2, False, 0.05)])
def test_aupro_matches_the_definition(seed: int, quantise: bool, fpr_limit: float) -> None:
    masks, maps = _maps_with_defects(seed, quantise=quantise)
    expected = _brute_force_aupro(masks, maps, fpr_limit)
    assert aupro(masks, maps, fpr_limit=fpr_limit) == pytest.approx(expected, abs=1e-9)
    assert aupro(masks, maps, fpr_limit=fpr_limit, max_thresholds=50) == pytest.approx(expected, abs=1 / 50)


def test_aupro_extremes_and_torch_inputs() -> None:
    masks, _ = _maps_with_defects(3)
    perfect = masks.astype(np.float32) + 0.01 * np.random.default_rng(0).random(masks.shape, dtype=np.float32)
    assert aupro(torch.from_numpy(masks), torch.from_numpy(perfect)) == pytest.approx(1.0)
    assert aupro(masks, 1.0 - perfect) == pytest.approx(0.0, abs=1e-3)


def test_aupro_weighs_every_region_equally() -> None:
    masks = np.zeros((1, 20, 20), dtype=bool)
    masks[0, 0:10, 0:10] = True  # large region, detected
    masks[0, 15, 15] = True  # one-pixel region, missed
    maps = np.where(masks, 1.0, 0.5).astype(np.float32)
    maps[0, 15, 15] = 0.0
    assert aupro(masks, maps) == pytest.approx(0.5)


def test_pixel_auroc_agrees_with_torchmetrics() -> None:
    masks, maps = _maps_with_defects(4, quantise=True)
    expected = binary_auroc(torch.from_numpy(maps).reshape(-1), torch.from_numpy(masks).reshape(-1).long()).item()
    assert pixel_auroc(masks, maps) == pytest.approx(expected, abs=1e-6)
    assert pixel_auroc(masks[1], maps[1]) > 0.5


def test_pixel_f1_max_exact_and_sampled() -> None:
    masks, maps = _maps_with_defects(5)
    flat_masks, flat_maps = masks.reshape(-1).astype(bool), maps.reshape(-1)
    best = 0.0
    for threshold in np.unique(flat_maps):
        predicted = flat_maps >= threshold
        tp = np.sum(predicted & flat_masks)
        best = max(best, 2 * tp / (predicted.sum() + flat_masks.sum()))
    f1, threshold = pixel_f1_max(masks, maps, max_thresholds=10**6)
    assert f1 == pytest.approx(best)
    predicted = flat_maps >= threshold
    assert 2 * np.sum(predicted & flat_masks) / (predicted.sum() + flat_masks.sum()) == pytest.approx(best)
    sampled_f1, _ = pixel_f1_max(masks, maps, max_thresholds=200)
    assert best - 0.02 <= sampled_f1 <= best


def test_pixel_metrics_reject_degenerate_inputs() -> None:
    masks, maps = _maps_with_defects(6)
    with pytest.raises(ValueError, match="only one class"):
        pixel_auroc(np.zeros_like(masks), maps)
    with pytest.raises(ValueError, match="without defect regions"):
        aupro(np.zeros_like(masks), maps)
    with pytest.raises(ValueError, match="without normal"):
        aupro(np.ones_like(masks), maps)
    with pytest.raises(ValueError, match="differ in shape"):
        aupro(masks[:, :-1], maps)
    with pytest.raises(ValueError, match="without defect pixels"):
        pixel_f1_max(np.zeros_like(masks), maps)

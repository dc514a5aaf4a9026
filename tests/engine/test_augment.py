"""Synthetic anomalies: masks match what was painted, outputs are seeded, shapes and ranges hold."""

import torch

from service.engine.augment import (
    AnomalyConfig,
    SyntheticAnomalies,
    blob_masks,
    perlin_noise,
    rectangle_masks,
    scratch_masks,
    vary_normal_images,
)

SIZE = 64


def _textured_images(batch: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(batch, 3, SIZE, SIZE, generator=generator) * 0.8 + 0.1


def test_masks_cover_exactly_the_changed_pixels() -> None:
    config = AnomalyConfig(probability=1.0, flip=False, brightness=0.0, contrast=0.0, blend=(1.0, 1.0))
    images = _textured_images(16)
    batch = SyntheticAnomalies(config, seed=3)(images)
    changed = (batch.images - images).abs().amax(dim=1, keepdim=True) > 1e-6
    masks = batch.masks.bool()
    assert not (changed & ~masks).any(), "pixels changed outside the mask"
    assert changed[masks].float().mean() > 0.9, "most masked pixels must differ from the original"
    assert batch.labels.sum() == 16


def test_probability_controls_the_anomalous_fraction_and_normal_samples_have_empty_masks() -> None:
    batch = SyntheticAnomalies(AnomalyConfig(probability=0.5), seed=0)(_textured_images(64))
    assert 16 <= batch.labels.sum() <= 48
    empty = batch.masks.flatten(1).amax(dim=1) == 0
    assert torch.equal(empty, batch.labels == 0)
    assert batch.images.shape == (64, 3, SIZE, SIZE) and batch.masks.shape == (64, 1, SIZE, SIZE)
    assert batch.images.min() >= 0 and batch.images.max() <= 1


def test_same_seed_same_output_and_different_seed_different_output() -> None:
    images = _textured_images(8)
    first = SyntheticAnomalies(seed=7)(images)
    second = SyntheticAnomalies(seed=7)(images)
    other = SyntheticAnomalies(seed=8)(images)
    assert torch.equal(first.images, second.images) and torch.equal(first.masks, second.masks)
    assert not torch.equal(first.masks, other.masks)


def test_grey_images_stay_grey() -> None:
    grey = _textured_images(16)[:, :1].expand(-1, 3, -1, -1)
    batch = SyntheticAnomalies(AnomalyConfig(probability=1.0), seed=1)(grey)
    assert (batch.images.amax(dim=1) - batch.images.amin(dim=1)).max() < 1e-6


def test_blob_masks_cover_the_requested_area() -> None:
    masks = blob_masks(32, SIZE, SIZE, area=(0.05, 0.05), max_cells=6, generator=torch.Generator().manual_seed(0))
    coverage = masks.flatten(1).mean(dim=1)
    assert torch.allclose(coverage, torch.full_like(coverage, 0.05), atol=0.01)


def test_scratches_are_thin_and_rectangles_are_boxes() -> None:
    generator = torch.Generator().manual_seed(0)
    scratches = scratch_masks(16, SIZE, SIZE, thickness=(1.0, 2.0), generator=generator)
    assert (scratches.flatten(1).sum(dim=1) > 0).all()
    assert scratches.flatten(1).mean(dim=1).max() < 0.1
    boxes = rectangle_masks(16, SIZE, SIZE, side=(0.2, 0.4), generator=generator)
    for box in boxes:
        rows, cols = box.nonzero(as_tuple=True)
        height, width = int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)
        assert box.sum() == height * width
        assert 0.2 * SIZE - 1 <= height <= 0.4 * SIZE + 1


def test_perlin_noise_is_smooth_and_per_sample_resolution() -> None:
    generator = torch.Generator().manual_seed(0)
    noise = perlin_noise(torch.tensor([1, 8]), torch.tensor([1, 8]), SIZE, SIZE, generator)
    assert noise.shape == (2, SIZE, SIZE) and noise.abs().max() <= 1.0
    roughness = (noise[:, 1:] - noise[:, :-1]).abs().mean(dim=(1, 2))
    assert roughness[0] < roughness[1]


def test_variation_flips_and_keeps_range() -> None:
    images = _textured_images(32)
    varied = vary_normal_images(images, flip=True, brightness=0.0, contrast=0.0)
    flipped_any = [
        any(torch.equal(v, candidate) for candidate in (i, i.flip(-1), i.flip(-2), i.flip(-1).flip(-2)))
        for v, i in zip(varied, images)
    ]
    assert all(flipped_any)
    assert not torch.equal(varied, images)
    shifted = vary_normal_images(images, flip=False, brightness=0.2, contrast=0.2)
    assert shifted.min() >= 0 and shifted.max() <= 1
    assert not torch.allclose(shifted.mean(dim=(1, 2, 3)), images.mean(dim=(1, 2, 3)))

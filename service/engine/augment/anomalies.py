"""Synthetic anomalies for training on normal images only (in the spirit of DRAEM, Zavrtanik et al. 2021).

Each anomalous sample gets one defect-shaped mask (noise blob, scratch or rectangle) filled with one foreign source
(another image's texture, a shifted copy of itself, procedural noise, a brightness change or a blur) blended in with a
random strength, so defects range from blatant to subtle. Everything is batched tensor work on the CPU.
"""

from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F

from service.engine.augment.noise import perlin_noise
from service.engine.augment.shapes import blob_masks, rectangle_masks, scratch_masks
from service.engine.augment.variation import vary_normal_images


@dataclass(frozen=True)
class AnomalyConfig:
    """Knobs of the generator; fractions are of the image side or area."""

    probability: float = 0.5
    blob_area: tuple[float, float] = (0.002, 0.15)
    blob_max_cells: int = 8
    scratch_thickness: tuple[float, float] = (1.0, 4.0)
    rectangle_side: tuple[float, float] = (0.05, 0.35)
    shape_weights: tuple[float, float, float] = (0.6, 0.2, 0.2)
    blend: tuple[float, float] = (0.3, 1.0)
    shade: tuple[float, float] = (0.08, 0.4)
    flip: bool = True
    brightness: float = 0.1
    contrast: float = 0.2


class AnomalyBatch(NamedTuple):
    """Augmented images (B, 3, H, W) in [0, 1], their defect masks (B, 1, H, W) in {0, 1} and labels (B,)."""

    images: torch.Tensor
    masks: torch.Tensor
    labels: torch.Tensor


class SyntheticAnomalies:
    """Seeded generator: the same seed and inputs give the same outputs."""

    def __init__(self, config: AnomalyConfig | None = None, seed: int = 0) -> None:
        self.config = config or AnomalyConfig()
        self.generator = torch.Generator().manual_seed(seed)

    def __call__(self, images: torch.Tensor) -> AnomalyBatch:
        cfg, gen = self.config, self.generator
        images = vary_normal_images(images, cfg.flip, cfg.brightness, cfg.contrast, gen)
        batch = images.shape[0]
        anomalous = (torch.rand(batch, generator=gen) < cfg.probability).nonzero().flatten()
        masks = torch.zeros_like(images[:, :1])
        augmented = images.clone()
        if len(anomalous) > 0:
            selected = images[anomalous]
            defect_masks = self._masks(selected)
            low, high = cfg.blend
            strength = low + (high - low) * torch.rand(len(anomalous), 1, 1, 1, generator=gen)
            alpha = defect_masks * strength
            augmented[anomalous] = (selected * (1 - alpha) + self._fill(images, anomalous) * alpha).clamp(0, 1)
            masks[anomalous] = defect_masks
        labels = (masks.flatten(1).amax(dim=1) > 0).float()
        return AnomalyBatch(augmented, masks, labels)

    def _masks(self, selected: torch.Tensor) -> torch.Tensor:
        """One shape per selected image, (N, 1, H, W); each kind is drawn only for the images that use it."""
        cfg, gen = self.config, self.generator
        count, _, height, width = selected.shape
        kinds = torch.multinomial(torch.tensor(cfg.shape_weights), count, replacement=True, generator=gen)
        masks = torch.zeros(count, height, width)
        for kind in range(3):
            rows = (kinds == kind).nonzero().flatten()
            if len(rows) == 0:
                continue
            if kind == 0:
                masks[rows] = blob_masks(len(rows), height, width, cfg.blob_area, cfg.blob_max_cells, gen)
            elif kind == 1:
                masks[rows] = scratch_masks(len(rows), height, width, cfg.scratch_thickness, generator=gen)
            else:
                masks[rows] = rectangle_masks(len(rows), height, width, cfg.rectangle_side, gen)
        return masks[:, None]

    def _fill(self, images: torch.Tensor, anomalous: torch.Tensor) -> torch.Tensor:
        """One foreign source for each anomalous image, (N, 3, H, W), grey where the image is grey.

        Sources: another image's texture, a shifted copy of the image itself, procedural noise around the image's mean,
        a brightness shift and a blur. Each is computed only for the images that draw it.
        """
        height, width = images.shape[-2:]
        gen = self.generator
        kinds = torch.randint(0, 5, (len(anomalous),), generator=gen)
        shift = (
            int(torch.randint(height // 4, height - height // 4 + 1, (1,), generator=gen)),
            int(torch.randint(width // 4, width - width // 4 + 1, (1,), generator=gen)),
        )
        selected = images[anomalous]
        fill = torch.empty_like(selected)
        for kind in range(5):
            rows = (kinds == kind).nonzero().flatten()
            if len(rows) == 0:
                continue
            own = selected[rows]
            if kind == 0:
                donors = images[(anomalous[rows] + 1) % images.shape[0]]
                fill[rows] = torch.roll(donors, shifts=shift, dims=(2, 3)).flip(-1)
            elif kind == 1:
                fill[rows] = torch.roll(own, shifts=shift, dims=(2, 3))
            elif kind == 2:
                fill[rows] = self._procedural_texture(own)
            elif kind == 3:
                fill[rows] = self._shaded(own)
            else:
                fill[rows] = F.avg_pool2d(own, kernel_size=7, stride=1, padding=3, count_include_pad=False)
        is_grey = (selected.amax(dim=1) - selected.amin(dim=1)).flatten(1).amax(dim=1) < 1e-3
        grey_fill = fill.mean(dim=1, keepdim=True).expand_as(fill)
        return torch.where(is_grey[:, None, None, None], grey_fill, fill).clamp(0, 1)

    def _procedural_texture(self, own: torch.Tensor) -> torch.Tensor:
        count, channels, height, width = own.shape
        cells = torch.randint(2, 33, (2, count), generator=self.generator)
        noise = perlin_noise(cells[0], cells[1], height, width, self.generator)[:, None]
        amplitude = torch.rand(count, 1, 1, 1, generator=self.generator) + 0.2
        return (own.mean(dim=(1, 2, 3), keepdim=True) + amplitude * noise).expand(-1, channels, -1, -1)

    def _shaded(self, own: torch.Tensor) -> torch.Tensor:
        count = own.shape[0]
        low, high = self.config.shade
        sign = torch.where(torch.rand(count, generator=self.generator) < 0.5, -1.0, 1.0)
        delta = sign * (low + (high - low) * torch.rand(count, generator=self.generator))
        return own + delta[:, None, None, None]

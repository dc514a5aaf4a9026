"""Binary defect-shaped masks for a batch: noise blobs, scratches and rectangles, each (B, H, W) float in {0, 1}."""

import math

import torch

from service.engine.augment.noise import perlin_noise


def _uniform(batch: int, low: float, high: float, generator: torch.Generator | None) -> torch.Tensor:
    return low + (high - low) * torch.rand(batch, generator=generator)


def _log_uniform(batch: int, low: float, high: float, generator: torch.Generator | None) -> torch.Tensor:
    return torch.exp(_uniform(batch, math.log(low), math.log(high), generator))


def blob_masks(
    batch: int,
    height: int,
    width: int,
    area: tuple[float, float],
    max_cells: int,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Perlin noise thresholded per sample so each mask covers a log-uniform fraction of the image drawn from `area`."""
    resolution_y = torch.randint(1, max_cells + 1, (batch,), generator=generator)
    resolution_x = torch.randint(1, max_cells + 1, (batch,), generator=generator)
    noise = perlin_noise(resolution_y, resolution_x, height, width, generator).reshape(batch, -1)
    fraction = _log_uniform(batch, area[0], area[1], generator)
    keep = (fraction * noise.shape[1]).long().clamp(1, noise.shape[1] - 1)
    thresholds = noise.sort(dim=1, descending=True).values.gather(1, keep[:, None])
    return (noise > thresholds).float().reshape(batch, height, width)


def scratch_masks(
    batch: int,
    height: int,
    width: int,
    thickness: tuple[float, float],
    segments: int = 8,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Thin curved lines: quadratic Bezier curves drawn as the pixels within half a thickness of the polyline."""
    points = torch.rand(batch, 3, 2, generator=generator) * torch.tensor([height, width], dtype=torch.float32)
    t = torch.linspace(0, 1, segments + 1)[None, :, None]
    start, control, end = points[:, 0:1], points[:, 1:2], points[:, 2:3]
    curve = (1 - t) ** 2 * start + 2 * (1 - t) * t * control + t**2 * end
    seg_a, seg_b = curve[:, :-1], curve[:, 1:]

    grid_y, grid_x = torch.meshgrid(
        torch.arange(height, dtype=torch.float32), torch.arange(width, dtype=torch.float32), indexing="ij"
    )
    pixels = torch.stack((grid_y, grid_x), dim=-1).reshape(1, 1, -1, 2)
    direction = (seg_b - seg_a)[:, :, None, :]
    offset = pixels - seg_a[:, :, None, :]
    length_sq = (direction**2).sum(-1).clamp_min(1e-6)
    along = ((offset * direction).sum(-1) / length_sq).clamp(0, 1)
    distance = (offset - along[..., None] * direction).norm(dim=-1).amin(dim=1)
    half_width = _uniform(batch, thickness[0], thickness[1], generator)[:, None] / 2
    return (distance <= half_width).float().reshape(batch, height, width)


def rectangle_masks(
    batch: int,
    height: int,
    width: int,
    side: tuple[float, float],
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Axis-aligned rectangles whose sides are fractions of the image side drawn from `side`."""
    box_h = (_uniform(batch, side[0], side[1], generator) * height).clamp_min(1)
    box_w = (_uniform(batch, side[0], side[1], generator) * width).clamp_min(1)
    top = torch.rand(batch, generator=generator) * (height - box_h)
    left = torch.rand(batch, generator=generator) * (width - box_w)
    rows = torch.arange(height, dtype=torch.float32)[None, :, None]
    cols = torch.arange(width, dtype=torch.float32)[None, None, :]
    inside_rows = (rows >= top[:, None, None]) & (rows < (top + box_h)[:, None, None])
    inside_cols = (cols >= left[:, None, None]) & (cols < (left + box_w)[:, None, None])
    return (inside_rows & inside_cols).float()

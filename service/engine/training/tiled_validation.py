"""Validation of a tiled model: each validation image's tiles run through the model in batches and their raw maps
are stitched (the same `Stitcher` the inferencers use), the image score taken from the stitched map.

For thresholds and pixel metrics, stitched maps and full-resolution masks are max-pooled to one evaluation grid, so
images of any size compare and a defect of a few pixels still shows. Holds one decoded image at a time.
"""

from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from service.engine.data import ImageRecord, load_mask, load_rgb
from service.engine.tiling import Stitcher, TileLayout, stitched_scores, tile_grid
from service.engine.types import InferenceBatch

MapTransform = Callable[[torch.Tensor], torch.Tensor]
"""What happens to a batch of tile maps (B, S, S) before they are stitched: nothing (raw) or the graph's normaliser."""


def _pooled(values: np.ndarray, size: int) -> torch.Tensor:
    return F.adaptive_max_pool2d(torch.from_numpy(np.ascontiguousarray(values, dtype=np.float32))[None, None], size)[
        0, 0
    ]


def stitched_map(
    model: nn.Module, pixels: np.ndarray, layout: TileLayout, image_size: int, transform: MapTransform | None = None
) -> np.ndarray:
    """One uint8 (H, W, 3) image's stitched map at the tiles' map scale, of raw tile maps or of `transform`ed ones."""
    grid = tile_grid(pixels.shape[0], pixels.shape[1], layout.tile_size, layout.overlap)
    stitcher = Stitcher(grid, image_size, layout.overlap)
    device = next((parameter.device for parameter in model.parameters()), torch.device("cpu"))
    origins = grid.origins
    for start in range(0, len(origins), layout.batch_size):
        batch = origins[start : start + layout.batch_size]
        tiles = np.stack([pixels[t : t + grid.tile_height, left : left + grid.tile_width] for t, left in batch])
        tensor = torch.from_numpy(tiles).permute(0, 3, 1, 2).to(torch.float32) / 255.0
        if tensor.shape[-2:] != (image_size, image_size):
            tensor = F.interpolate(tensor, size=(image_size, image_size), mode="bilinear", antialias=True)
        with torch.no_grad():
            tile_maps = model(tensor.clamp(0.0, 1.0).to(device)).anomaly_map.float().cpu()
            maps = (transform(tile_maps) if transform is not None else tile_maps).numpy()
        for origin, tile_map in zip(batch, maps, strict=True):
            stitcher.add(origin, tile_map)
    return stitcher.finish()


def validate_tiled(
    model: nn.Module,
    records: Sequence[ImageRecord],
    layout: TileLayout,
    image_size: int,
    on_image: Callable[[int, int], None] | None = None,
) -> tuple[InferenceBatch, np.ndarray]:
    """Raw outputs for `records`: image scores (N,) from the stitched maps, maps pooled to (N, S, S), S the model's
    input size, and the masks pooled alike (zeros where an image has none). `on_image(done, total)` after each."""
    model.eval()
    scores, maps, masks = [], [], []
    for number, record in enumerate(records):
        pixels = np.asarray(load_rgb(record.image), dtype=np.uint8)
        full = stitched_map(model, pixels, layout, image_size)
        scores.append(float(stitched_scores(full)))
        maps.append(_pooled(full, image_size))
        if record.mask is not None:
            masks.append(_pooled(load_mask(record.mask, record.mask_colors), image_size).numpy())
        else:
            masks.append(np.zeros((image_size, image_size), dtype=np.float32))
        if on_image is not None:
            on_image(number + 1, len(records))
    batch = InferenceBatch(pred_score=torch.tensor(scores, dtype=torch.float32), anomaly_map=torch.stack(maps))
    return batch, np.stack(masks)


def stitched_normalised_scores(
    model: nn.Module, records: Sequence[ImageRecord], layout: TileLayout, image_size: int, normalise: MapTransform
) -> torch.Tensor:
    """Image scores (N,) exactly as the inferencers compute them: tile maps normalised by the exported graph's
    normaliser, then stitched, then the maximum. A piecewise normaliser does not commute with overlap blending, so
    the evaluation's scores (and the thresholds chosen on them) come from this second pass, not from the raw one."""
    model.eval()
    scores = []
    for record in records:
        pixels = np.asarray(load_rgb(record.image), dtype=np.uint8)
        scores.append(float(stitched_scores(stitched_map(model, pixels, layout, image_size, normalise))))
    return torch.tensor(scores, dtype=torch.float32)

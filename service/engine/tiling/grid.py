"""Where the tiles of one image lie, and how much each map pixel of a tile counts when overlapping maps are blended.

Numpy only (the inferencers import it). Every tile of an image has the same size, so tiles batch; the first and last
tile along each axis touch the image's borders and the rest are spread evenly between them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Weight of a map pixel on a tile's very border: small, so a neighbour's centre wins, never zero, so the image's own
# borders (covered by one tile only) keep their values.
BORDER_WEIGHT = 1e-3


def _starts(length: int, tile: int, overlap: float) -> list[int]:
    if length <= tile:
        return [0]
    stride = max(1, round(tile * (1.0 - overlap)))
    count = math.ceil((length - tile) / stride) + 1
    return [round(i * (length - tile) / (count - 1)) for i in range(count)]


@dataclass(frozen=True)
class TileGrid:
    """Tiles of an (height, width) image: each `(top, left)` with the common `tile_height` x `tile_width`."""

    height: int
    width: int
    tile_height: int
    tile_width: int
    tops: tuple[int, ...]
    lefts: tuple[int, ...]

    @property
    def origins(self) -> list[tuple[int, int]]:
        return [(top, left) for top in self.tops for left in self.lefts]

    def __len__(self) -> int:
        return len(self.tops) * len(self.lefts)

    def canvas_shape(self, map_size: int) -> tuple[int, int]:
        """The stitched map's (height, width) when each tile's map is `map_size` square: the image at the tiles' scale."""
        return round(self.height * map_size / self.tile_height), round(self.width * map_size / self.tile_width)

    def cut(self, pixels: np.ndarray, top: int, left: int) -> np.ndarray:
        """The tile at (`top`, `left`) of an image of this grid's size (a view, not a copy)."""
        return pixels[top : top + self.tile_height, left : left + self.tile_width]

    def map_origin(self, top: int, left: int, map_size: int) -> tuple[int, int]:
        return round(top * map_size / self.tile_height), round(left * map_size / self.tile_width)


def tile_grid(height: int, width: int, tile_size: int, overlap: float) -> TileGrid:
    """The tiles of an image; an image smaller than `tile_size` along an axis gets tiles as long as that axis."""
    if height <= 0 or width <= 0 or tile_size <= 0:
        raise ValueError(f"image {height}x{width} and tile size {tile_size} must be positive")
    if not 0.0 <= overlap < 1.0:
        raise ValueError(f"overlap must be in [0, 1), got {overlap}")
    tile_height, tile_width = min(tile_size, height), min(tile_size, width)
    return TileGrid(
        height=height,
        width=width,
        tile_height=tile_height,
        tile_width=tile_width,
        tops=tuple(_starts(height, tile_height, overlap)),
        lefts=tuple(_starts(width, tile_width, overlap)),
    )


def blend_weights(map_size: int, overlap: float) -> np.ndarray:
    """(map_size, map_size) float32 weights: 1 in the middle, falling linearly to BORDER_WEIGHT over the overlap, so
    seams between tiles fade instead of stepping. Uniform when there is no overlap."""
    ramp = overlap * map_size
    if ramp < 1.0:
        return np.ones((map_size, map_size), dtype=np.float32)
    centres = np.arange(map_size, dtype=np.float64) + 0.5
    profile = np.clip(np.minimum(centres, map_size - centres) / ramp, BORDER_WEIGHT, 1.0)
    return np.outer(profile, profile).astype(np.float32)

"""Tiling for every model: training and inference on tiles of the full-resolution image, maps stitched back.

`settings` owns the user-facing knobs (`tile_size`, `tile_overlap`, read out of any model's hyperparameters) and the
default tile size; `grid` and `stitch` are numpy only (this package imports no torch; `stats` does), shared by training-time validation and the inferencers, so a
stitched map is computed the same way everywhere.
"""

from service.engine.tiling.grid import TileGrid, blend_weights, tile_grid
from service.engine.tiling.settings import (
    TILING_KEYS,
    TileLayout,
    TilingSettings,
    default_tile_size,
    resolve_layout,
    split_tiling,
)
from service.engine.tiling.stitch import Stitcher, stitched_scores

__all__ = [
    "TILING_KEYS",
    "Stitcher",
    "TileGrid",
    "TileLayout",
    "TilingSettings",
    "blend_weights",
    "default_tile_size",
    "resolve_layout",
    "split_tiling",
    "stitched_scores",
    "tile_grid",
]

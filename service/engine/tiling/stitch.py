"""Stitching tile maps into one map per image, and the image score taken from it.

Numpy only (the inferencers import it). The same code stitches raw maps during training-time validation and normalised maps in the inferencers.
"""

from __future__ import annotations

import numpy as np

from service.engine.tiling.grid import TileGrid, blend_weights


class Stitcher:
    """Accumulates weighted tile maps on a canvas the size of the image at the tiles' map scale; holds two float32
    canvases and nothing per tile."""

    def __init__(self, grid: TileGrid, map_size: int, overlap: float) -> None:
        self.grid = grid
        self.map_size = map_size
        self.weights = blend_weights(map_size, overlap)
        shape = grid.canvas_shape(map_size)
        self.total = np.zeros(shape, dtype=np.float32)
        self.weight = np.zeros(shape, dtype=np.float32)

    def add(self, origin: tuple[int, int], tile_map: np.ndarray) -> None:
        if tile_map.shape != (self.map_size, self.map_size):
            raise ValueError(f"expected a {self.map_size}x{self.map_size} tile map, got {tile_map.shape}")
        top, left = self.grid.map_origin(*origin, self.map_size)
        rows, cols = slice(top, top + self.map_size), slice(left, left + self.map_size)
        self.total[rows, cols] += tile_map * self.weights
        self.weight[rows, cols] += self.weights

    def finish(self) -> np.ndarray:
        return self.total / np.maximum(self.weight, np.finfo(np.float32).tiny)


def stitched_scores(maps: np.ndarray) -> np.ndarray:
    """Image scores of stitched maps (..., H, W): their maximum, so a defect of a few pixels decides the verdict."""
    return maps.reshape(*maps.shape[:-2], -1).max(axis=-1)

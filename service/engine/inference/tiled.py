"""Tiled inference: one full-resolution image cut into its tiles, the tiles run through the graph a batch at a time,
their normalised maps stitched back with overlap blending, and the image score taken from the stitched map.

Numpy only, shared by every runtime, so ONNX Runtime and OpenVINO (and the hosting units and edge bundles built on
them) stitch alike. Memory: the image, one batch of tiles and two canvases the size of the stitched map.
"""

from collections.abc import Callable, Iterable, Iterator

import numpy as np

from service.engine.tiling import Stitcher, TileLayout, stitched_scores, tile_grid

GraphRunner = Callable[[np.ndarray], np.ndarray]
"""uint8 (B, h, w, 3) tiles -> normalised (B, S, S) maps."""


def stitch_image(run_tiles: GraphRunner, pixels: np.ndarray, layout: TileLayout) -> tuple[float, np.ndarray]:
    """One uint8 (H, W, 3) image -> (image score, stitched map), both normalised (threshold 0.5)."""
    grid = tile_grid(pixels.shape[0], pixels.shape[1], layout.tile_size, layout.overlap)
    origins = grid.origins
    stitcher: Stitcher | None = None
    for start in range(0, len(origins), layout.batch_size):
        batch = origins[start : start + layout.batch_size]
        tiles = np.stack([grid.cut(pixels, top, left) for top, left in batch])
        maps = run_tiles(tiles)
        if stitcher is None:
            stitcher = Stitcher(grid, maps.shape[-1], layout.overlap)
        for origin, tile_map in zip(batch, maps, strict=True):
            stitcher.add(origin, tile_map)
    assert stitcher is not None  # a grid always has at least one tile
    stitched = stitcher.finish()
    return float(stitched_scores(stitched)), stitched


def stitch_batch(run_tiles: GraphRunner, images: np.ndarray, layout: TileLayout) -> tuple[np.ndarray, np.ndarray]:
    """uint8 (B, H, W, 3) images of one size -> scores (B,) and stitched maps (B, h, w), one image at a time."""
    results = [stitch_image(run_tiles, image, layout) for image in images]
    scores = np.array([score for score, _ in results], dtype=np.float32)
    return scores, np.stack([stitched for _, stitched in results])


def calibration_tiles(images: Iterable[np.ndarray], layout: TileLayout, *, per_image: int) -> Iterator[np.ndarray]:
    """What a tiled model's graph sees when serving, for INT8 calibration: up to `per_image` tiles of each uint8
    (H, W, 3) image, spread evenly over its grid (whole images would calibrate on another scale than the tiles')."""
    for pixels in images:
        grid = tile_grid(pixels.shape[0], pixels.shape[1], layout.tile_size, layout.overlap)
        origins = grid.origins
        picks = np.linspace(0, len(origins) - 1, num=min(per_image, len(origins))).round().astype(int)
        for index in dict.fromkeys(picks.tolist()):
            yield grid.cut(pixels, *origins[index])

"""The normalisation stats a tiled model's exported graph carries (imports torch through the normaliser; training
only)."""

import dataclasses

from service.engine.normalization import NormalizationStats


def tiled_stats(stats: NormalizationStats) -> NormalizationStats:
    """Stats for a tiled model's graph, computed from stitched raw maps and their maxima (the image scores).

    The graph normalises each tile's map with the pixel stats; the inferencer stitches those maps and takes their
    maximum as the image score. Moving the pixel threshold to the image threshold and the image range to the pixel
    range makes that maximum exactly the normalised image score, with the image threshold at 0.5; the defect mask of
    an anomalous image then shows the pixels that made the verdict.
    """
    return dataclasses.replace(
        stats,
        pixel_threshold=stats.image_threshold,
        min_score=stats.min_pixel,
        max_score=stats.max_pixel,
    )

"""What every inferencer does beyond running its graph: batching inputs and post-processing single images."""

from abc import ABC, abstractmethod
from typing import NamedTuple

import numpy as np

from service.engine.inference.images import ImageLike, ImagesLike, to_batches, to_rgb_array
from service.engine.inference.tiled import stitch_batch
from service.engine.normalised import NORMALISED_THRESHOLD
from service.engine.palette import ClassPalette
from service.engine.postprocess import Detection, postprocess, resize_map
from service.engine.tiling import TileLayout

OUTPUT_NAMES = ("pred_score", "anomaly_map")
CLASS_OUTPUT = "class_scores"


class InferenceResult(NamedTuple):
    """Normalised outputs: pred_score (B,) and anomaly_map (B, S, S) in [0, 1], S the model's input size; for a tiled
    model the maps are the stitched ones, (B, h, w) at the tiles' map scale of the input images. class_scores
    (B, K, S, S): the class head's per-pixel probabilities, for a model with two or more defect classes."""

    pred_score: np.ndarray
    anomaly_map: np.ndarray
    class_scores: np.ndarray | None = None


class Inferencer(ABC):
    """Runs an exported pipeline. Thresholds apply to normalised scores, where training put both at 0.5; callers
    that let users move the operating point pass their own. With a `tiling` layout (a tiled model's, from its
    metadata) every image is cut into tiles that run through the graph and are stitched back (`inference.tiled`).
    A `palette` (a model trained on defect classes, from its metadata) names each defect in `predict_image`."""

    def __init__(
        self,
        *,
        image_threshold: float = NORMALISED_THRESHOLD,
        pixel_threshold: float = NORMALISED_THRESHOLD,
        tiling: TileLayout | None = None,
        palette: ClassPalette | None = None,
    ) -> None:
        self.image_threshold = image_threshold
        self.pixel_threshold = pixel_threshold
        self.tiling = tiling
        self.palette = palette

    @abstractmethod
    def run_graph(self, batch: np.ndarray) -> InferenceResult:
        """Run the graph once on one uint8 (B, H, W, 3) batch."""

    def run(self, batch: np.ndarray) -> InferenceResult:
        """Normalised outputs for one uint8 (B, H, W, 3) batch: the graph's, or stitched from tiles."""
        if self.tiling is None:
            return self.run_graph(batch)
        scores, maps = stitch_batch(lambda tiles: self.run_graph(tiles).anomaly_map, batch, self.tiling)
        return InferenceResult(scores, maps)

    def predict(self, images: ImagesLike) -> InferenceResult:
        """Scores and maps for uint8 (B, H, W, 3) images, or a list of images (PIL, encoded bytes, arrays) of any
        sizes, in input order."""
        groups = to_batches(images)
        if len(groups) == 1:
            return self.run(groups[0][1])
        results = [(positions, self.run(batch)) for positions, batch in groups]
        count = sum(len(positions) for positions, _ in results)
        first = results[0][1]
        map_shape = first.anomaly_map.shape[1:]
        scores = np.empty(count, dtype=np.float32)
        maps = np.empty((count, *map_shape), dtype=np.float32)
        classes = None if first.class_scores is None else np.empty((count, *first.class_scores.shape[1:]), np.float32)
        for positions, result in results:
            scores[positions] = result.pred_score
            # Stitched maps follow each image's size; in a mixed-size call they share the first group's shape.
            maps[positions] = [resize_map(one, map_shape) for one in result.anomaly_map]
            if classes is not None:
                classes[positions] = result.class_scores  # untiled: always at the model's input size
        return InferenceResult(scores, maps, classes)

    def predict_image(self, image: ImageLike) -> Detection:
        """Verdict, defect mask, boxes and area for one image, at the image's original size."""
        pixels = to_rgb_array(image)
        result = self.run(pixels[None])
        return postprocess(
            result.pred_score[0],
            result.anomaly_map[0],
            image_threshold=self.image_threshold,
            pixel_threshold=self.pixel_threshold,
            original_size=(pixels.shape[0], pixels.shape[1]),
            class_scores=None if result.class_scores is None else result.class_scores[0],
            palette=self.palette,
        )

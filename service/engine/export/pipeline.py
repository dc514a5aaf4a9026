"""The whole inference pipeline as one module: what the ONNX and OpenVINO graphs compute."""

import torch
from torch import nn

from service.engine.export.resize import AntialiasedResize
from service.engine.types import ClassifiedBatch, InferenceBatch


class ExportPipeline(nn.Module):
    """uint8 RGB images (B, H, W, 3) of any size -> normalised `InferenceBatch` at the model's input size.

    Resizes to `image_size` the way the training data module does, scales to [0, 1], runs the model's eval forward
    and applies score normalisation, so scores and maps are in [0, 1] with both thresholds at 0.5. With a class head
    (a model trained on masks of two or more defect classes) the output is a `ClassifiedBatch`: the head's per-pixel
    class probabilities of the same resized image come with it.
    """

    def __init__(
        self, model: nn.Module, normalizer: nn.Module, image_size: int, class_head: nn.Module | None = None
    ) -> None:
        super().__init__()
        self.resize = AntialiasedResize(image_size)
        self.model = model
        self.normalizer = normalizer
        self.class_head = class_head
        self.image_size = image_size

    def forward(self, images: torch.Tensor) -> InferenceBatch | ClassifiedBatch:
        pixels = images.permute(0, 3, 1, 2).to(torch.float32) / 255.0
        resized = self.resize(pixels).clamp(0.0, 1.0)
        output = self.normalizer(self.model(resized))
        if self.class_head is None:
            return output
        return ClassifiedBatch(output.pred_score, output.anomaly_map, self.class_head(resized))

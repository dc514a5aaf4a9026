"""Antialiased bilinear resizing written as two matrix products, so it exports to ONNX and OpenVINO alike.

The data module resizes training images with `F.interpolate(..., antialias=True)`. ONNX Runtime honours the ONNX
`Resize(antialias=1)` that torch exports for it, but OpenVINO's ONNX frontend ignores the flag, which would make the
OpenVINO graph see different pixels than the model was trained on. Building torch's antialiasing weights explicitly
(a triangle filter widened by the downscale factor, clipped at the borders and normalised per output pixel) keeps the
torch, ONNX Runtime and OpenVINO pipelines identical to training, for any input size.
"""

import torch
from torch import nn


def antialias_weights(input_size: int, output_size: int, device: torch.device) -> torch.Tensor:
    """(output_size, input_size) matrix whose rows are torch's antialiased bilinear weights along one axis.

    Every quantity derives from `arange(input_size)`, so the input size stays symbolic in an exported graph.
    """
    sources = torch.arange(input_size, dtype=torch.float32, device=device) + 0.5
    scale = (sources[-1] + 0.5) / output_size
    support = torch.clamp(scale, min=1.0)
    centres = (torch.arange(output_size, dtype=torch.float32, device=device) + 0.5) * scale
    distance = (sources[None, :] - centres[:, None]) / support
    weights = torch.clamp(1.0 - distance.abs(), min=0.0)
    return weights / weights.sum(dim=1, keepdim=True)


class AntialiasedResize(nn.Module):
    """Resizes float (B, C, H, W) images of any size to (B, C, size, size) exactly like the training data module."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        rows = antialias_weights(images.shape[-2], self.size, images.device)
        columns = antialias_weights(images.shape[-1], self.size, images.device)
        return rows @ images @ columns.transpose(0, 1)

"""Gaussian smoothing of anomaly maps as a separable convolution with a fixed kernel buffer (exports to ONNX)."""

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class GaussianBlur2d(nn.Module):
    """Blurs (B, 1, H, W) maps with a Gaussian of standard deviation `sigma` (kernel radius 4 sigma, reflect padding,
    so maps must be larger than the radius: 17 pixels for sigma 4)."""

    def __init__(self, sigma: float) -> None:
        super().__init__()
        if sigma <= 0:
            raise ValueError("sigma must be positive")
        self.radius = max(1, math.ceil(4 * sigma))
        offsets = torch.arange(-self.radius, self.radius + 1, dtype=torch.float64)
        kernel = torch.exp(-(offsets**2) / (2 * sigma**2))
        kernel = (kernel / kernel.sum()).float()
        self.register_buffer("kernel_rows", kernel.view(1, 1, -1, 1))
        self.register_buffer("kernel_columns", kernel.view(1, 1, 1, -1))

    def forward(self, maps: Tensor) -> Tensor:
        r = self.radius
        maps = F.conv2d(F.pad(maps, (0, 0, r, r), mode="reflect"), self.kernel_rows)
        return F.conv2d(F.pad(maps, (r, r, 0, 0), mode="reflect"), self.kernel_columns)

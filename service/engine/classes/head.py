"""The class head: per-pixel defect class probabilities from the model's resized input image.

It names what kind of defect a pixel would be; whether the pixel is a defect at all stays the anomaly map's decision.
Fixed multi-scale colour and contrast features (the pixel, its 5- and 15-pixel neighbourhood means, the pixel's and
the near neighbourhood's contrast to the wide one, the local mean absolute contrast), standardised with statistics of
the training pixels, then a two-layer 1x1-convolution network. Model-agnostic and small (a few hundred weights), so
it trains in seconds on the labelled anomalous images and exports with the pipeline (average pooling and 1x1
convolutions only, which ONNX Runtime and OpenVINO run alike).
"""

import torch
import torch.nn.functional as F
from torch import nn

NEAR, WIDE = 5, 15
FEATURES = 18
HIDDEN = 16


def _mean(images: torch.Tensor, size: int) -> torch.Tensor:
    return F.avg_pool2d(images, size, stride=1, padding=size // 2, count_include_pad=False)


class ClassHead(nn.Module):
    """float (B, 3, S, S) in [0, 1] -> class probabilities (B, K, S, S).

    The head tells K + 1 kinds of pixel apart: the K classes and intact surface (output 0 of `logits`, learned from
    the undamaged pixels of the same images). Only the K class probabilities are returned, so pixels that look
    intact (an anomaly mask is usually wider than the defect) carry little weight when a region's class is voted.
    """

    def __init__(self, n_classes: int) -> None:
        super().__init__()
        self.n_classes = n_classes
        self.register_buffer("feature_mean", torch.zeros(1, FEATURES, 1, 1))
        self.register_buffer("feature_std", torch.ones(1, FEATURES, 1, 1))
        self.hidden = nn.Conv2d(FEATURES, HIDDEN, 1)
        self.out = nn.Conv2d(HIDDEN, n_classes + 1, 1)

    @staticmethod
    def features(images: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) -> (B, FEATURES, S, S) before standardisation."""
        near, wide = _mean(images, NEAR), _mean(images, WIDE)
        contrast = images - wide
        return torch.cat([images, near, wide, contrast, near - wide, _mean(contrast.abs(), NEAR)], dim=1)

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        standardised = (features - self.feature_mean) / self.feature_std
        return self.out(torch.relu(self.hidden(standardised)))

    def pixel_logits(self, features: torch.Tensor) -> torch.Tensor:
        """`logits` of (P, FEATURES) pixels as matrix products (training: 1x1 convolutions over P one-pixel images
        are far slower)."""
        standardised = (features - self.feature_mean.reshape(1, -1)) / self.feature_std.reshape(1, -1)
        hidden = F.linear(standardised, self.hidden.weight.reshape(HIDDEN, FEATURES), self.hidden.bias)
        return F.linear(torch.relu(hidden), self.out.weight.reshape(self.n_classes + 1, HIDDEN), self.out.bias)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.logits(self.features(images)), dim=1)[:, 1:]

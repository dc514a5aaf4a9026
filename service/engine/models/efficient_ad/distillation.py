"""What the teacher PDN learns to reproduce: a backbone's features, aligned with the PDN's map and standardised.

The paper distils its teacher from Wide-ResNet-101 layer2 + layer3 features of 512-px ImageNet images. Here the
backbone sees the input at twice its size too; each chosen stage is resized to a quarter of the input side, averaged
over 3 x 3 neighbourhoods (PatchCore's local aggregation), concatenated, averaged down to `out_channels` when it has
more, and cropped by the PDN's margin so that each target vector sits where the PDN's output vector does.
"""

import torch
import torch.nn.functional as F
from torch import nn

from service.engine.backbones import FeatureExtractor
from service.engine.models.efficient_ad.networks import MAP_PADDING

STATS_IMAGES = 64
"""Images the per-channel means and deviations (of targets and of the teacher) are measured on."""


class DistillationTarget(nn.Module):
    """ImageNet-normalised images (B, 3, S, S) -> standardised targets (B, out_channels, S/4 - 8, S/4 - 8)."""

    def __init__(self, backbone: FeatureExtractor, out_channels: int) -> None:
        super().__init__()
        self.backbone = backbone
        self.out_channels = out_channels
        self.register_buffer("mean", torch.zeros(1, out_channels, 1, 1))
        self.register_buffer("std", torch.ones(1, out_channels, 1, 1))

    @torch.no_grad()
    def raw(self, normalised: torch.Tensor) -> torch.Tensor:
        side = normalised.shape[-1] // 4
        enlarged = F.interpolate(normalised, scale_factor=2.0, mode="bilinear", align_corners=False)
        features = [
            F.avg_pool2d(F.interpolate(feature, size=(side, side), mode="bilinear", align_corners=False), 3, 1, 1)
            for feature in self.backbone(enlarged).values()
        ]
        stacked = torch.cat(features, dim=1)
        if stacked.shape[1] != self.out_channels:
            batch, channels, height, width = stacked.shape
            flat = stacked.permute(0, 2, 3, 1).reshape(-1, 1, channels)
            stacked = F.adaptive_avg_pool1d(flat, self.out_channels).reshape(batch, height, width, -1)
            stacked = stacked.permute(0, 3, 1, 2)
        margin = MAP_PADDING
        return stacked[:, :, margin : side - margin, margin : side - margin]

    def forward(self, normalised: torch.Tensor) -> torch.Tensor:
        return (self.raw(normalised) - self.mean) / self.std


def channel_statistics(maps: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and standard deviation over (B, C, h, w) maps, shaped (1, C, 1, 1) for broadcasting."""
    stacked = torch.cat([m.transpose(0, 1).flatten(1) for m in maps], dim=1)
    mean = stacked.mean(dim=1)
    std = stacked.std(dim=1).clamp_min(1e-6)
    return mean.view(1, -1, 1, 1), std.view(1, -1, 1, 1)

"""EfficientAD-S's networks (Batzner, Heckler, König, WACV 2024, arXiv:2303.14535): the small patch description
network (PDN) used for teacher and student, and the autoencoder. Layer shapes follow the paper's appendix.

The paper fixes 256 px; here the autoencoder's bottleneck kernel and the decoder's upsampling sizes scale with the
input side (any multiple of 32 from 64 px), so tests run on tiny images. At 256 px they are the paper's.
"""

import torch
import torch.nn.functional as F
from torch import nn

MAP_PADDING = 4
"""The PDN map starts and ends 4 map pixels (16 input pixels) inside the image; the paper pads it back by 4."""


def map_side(image_size: int) -> int:
    """Side of the PDN's output for an `image_size` input (56 at 256 px, 8 at 64 px)."""
    return image_size // 4 - 2 * MAP_PADDING


def check_image_size(image_size: int) -> None:
    if image_size < 64 or image_size % 32:
        raise ValueError(f"EfficientAD needs an image size that is a multiple of 32, at least 64; got {image_size}")


class SmallPatchDescriptionNetwork(nn.Module):
    """PDN-S: four convolutions and two average poolings; each output vector describes a 33 x 33 input patch.

    Takes ImageNet-normalised images (B, 3, S, S), returns (B, out_channels, S/4 - 8, S/4 - 8).
    """

    def __init__(self, out_channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 128, kernel_size=4)
        self.conv2 = nn.Conv2d(128, 256, kernel_size=4)
        self.conv3 = nn.Conv2d(256, 256, kernel_size=3)
        self.conv4 = nn.Conv2d(256, out_channels, kernel_size=4)
        self.pool1 = nn.AvgPool2d(kernel_size=2, stride=2)
        self.pool2 = nn.AvgPool2d(kernel_size=2, stride=2)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.pool1(F.relu(self.conv1(images)))
        x = self.pool2(F.relu(self.conv2(x)))
        return self.conv4(F.relu(self.conv3(x)))


class Encoder(nn.Module):
    """Five stride-2 convolutions and one that sees the whole remaining grid: a 64-value code per image."""

    def __init__(self, image_size: int) -> None:
        super().__init__()
        self.strided = nn.ModuleList(
            nn.Conv2d(channels_in, channels_out, kernel_size=4, stride=2, padding=1)
            for channels_in, channels_out in ((3, 32), (32, 32), (32, 64), (64, 64), (64, 64))
        )
        self.bottleneck = nn.Conv2d(64, 64, kernel_size=image_size // 32)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = images
        for conv in self.strided:
            x = F.relu(conv(x))
        return self.bottleneck(x)


class Decoder(nn.Module):
    """Bilinear upsampling and 4 x 4 convolutions (each grows the grid by one) back to the PDN's map size, with
    dropout after the first six; returns (B, out_channels, map_side, map_side)."""

    def __init__(self, out_channels: int, image_size: int) -> None:
        super().__init__()
        s = image_size
        self.sizes = (max(1, s // 64 - 1), s // 32, s // 16 - 1, s // 8, s // 4 - 1, s // 2 - 1)
        self.map_side = map_side(image_size)
        self.upconvs = nn.ModuleList(nn.Conv2d(64, 64, kernel_size=4, padding=2) for _ in self.sizes)
        self.dropout = nn.Dropout(p=0.2)
        self.conv7 = nn.Conv2d(64, 64, kernel_size=3, padding=1)
        self.conv8 = nn.Conv2d(64, out_channels, kernel_size=3, padding=1)

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        x = code
        for size, conv in zip(self.sizes, self.upconvs, strict=True):
            x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
            x = self.dropout(F.relu(conv(x)))
        x = F.interpolate(x, size=(self.map_side, self.map_side), mode="bilinear", align_corners=False)
        return self.conv8(F.relu(self.conv7(x)))


class AutoEncoder(nn.Module):
    """Reconstructs the teacher's map from a 64-value code of the whole image: it learns the image's logical layout,
    and fails where the layout is new (a missing or misplaced part)."""

    def __init__(self, out_channels: int, image_size: int) -> None:
        super().__init__()
        self.encoder = Encoder(image_size)
        self.decoder = Decoder(out_channels, image_size)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(images))

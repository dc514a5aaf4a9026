"""Reverse Distillation's trainable parts: the one-class bottleneck embedding (OCBE) and the student decoder, a
ResNet run backwards (its first block per stage upsamples with a 2x2 transposed convolution).

Shapes follow the official implementation (Deng & Li, github.com/hq-deng/RD4AD) for ResNet-18 (BasicBlock) and
Wide-ResNet-50-2 (Bottleneck, width 128): with teacher stages of C, 2C, 4C channels at strides 4, 8, 16 (C = 64 x
block expansion), the bottleneck fuses the three into one 8C-channel map at stride 32, and the decoder returns 4C, 2C
and C channels at strides 16, 8 and 4 again.
"""

import torch
from torch import Tensor, nn

from service.engine.backbones.resnet import BasicBlock, Bottleneck


def _conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)


def _up_or_same(in_channels: int, out_channels: int, stride: int, kernel_size: int) -> nn.Module:
    """A 2x transposed convolution when `stride` is 2, else a stride-1 convolution of `kernel_size`."""
    if stride == 2:
        return nn.ConvTranspose2d(in_channels, out_channels, kernel_size=2, stride=2, bias=False)
    return nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False)


class DecoderBasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_channels: int, planes: int, stride: int = 1, width: int = 64) -> None:
        super().__init__()
        del width
        self.conv1 = _up_or_same(in_channels, planes, stride, 3)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.upsample = _shortcut(in_channels, planes, stride)

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.upsample is None else self.upsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


class DecoderBottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_channels: int, planes: int, stride: int = 1, width: int = 64) -> None:
        super().__init__()
        middle = int(planes * (width / 64.0))
        self.conv1 = nn.Conv2d(in_channels, middle, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(middle)
        self.conv2 = _up_or_same(middle, middle, stride, 3)
        self.bn2 = nn.BatchNorm2d(middle)
        self.conv3 = nn.Conv2d(middle, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.upsample = _shortcut(in_channels, planes * self.expansion, stride)

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.upsample is None else self.upsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + identity)


def _shortcut(in_channels: int, out_channels: int, stride: int) -> nn.Module | None:
    if stride == 1 and in_channels == out_channels:
        return None
    return nn.Sequential(_up_or_same(in_channels, out_channels, stride, 1), nn.BatchNorm2d(out_channels))


def _initialise(module: nn.Module) -> None:
    """He-normal convolutions, unit BatchNorm scale and zero shift, as the ResNets the parts mirror."""
    for child in module.modules():
        if isinstance(child, nn.Conv2d | nn.ConvTranspose2d):
            nn.init.kaiming_normal_(child.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(child, nn.BatchNorm2d):
            nn.init.ones_(child.weight)
            nn.init.zeros_(child.bias)


class OneClassBottleneck(nn.Module):
    """OCBE: layer1 and layer2 features downsampled to layer3's grid, concatenated with it, and compressed by a
    stride-2 ResNet stage into the compact embedding the decoder starts from."""

    def __init__(self, block: type[BasicBlock] | type[Bottleneck], blocks: int, width: int) -> None:
        super().__init__()
        base = 64 * block.expansion
        self.conv1 = _conv3x3(base, 2 * base, stride=2)
        self.bn1 = nn.BatchNorm2d(2 * base)
        self.conv2 = _conv3x3(2 * base, 4 * base, stride=2)
        self.bn2 = nn.BatchNorm2d(4 * base)
        self.conv3 = _conv3x3(2 * base, 4 * base, stride=2)
        self.bn3 = nn.BatchNorm2d(4 * base)
        self.relu = nn.ReLU(inplace=True)
        fused = 3 * 4 * base
        out = 512 * block.expansion
        downsample = nn.Sequential(nn.Conv2d(fused, out, 1, stride=2, bias=False), nn.BatchNorm2d(out))
        stage = [block(fused, 512, 2, downsample, width)]
        stage += [block(out, 512, width=width) for _ in range(1, blocks)]
        self.stage = nn.Sequential(*stage)
        _initialise(self)

    def forward(self, features: list[Tensor]) -> Tensor:
        first = self.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(features[0]))))))
        second = self.relu(self.bn3(self.conv3(features[1])))
        return self.stage(torch.cat([first, second, features[2]], dim=1))


class StudentDecoder(nn.Module):
    """Three upsampling stages mirroring the teacher's layer3, layer2, layer1; returns their outputs shallowest
    first, aligned with the teacher's features."""

    def __init__(self, block: type[BasicBlock] | type[Bottleneck], blocks: tuple[int, int, int], width: int) -> None:
        super().__init__()
        decoder_block = DecoderBasicBlock if block is BasicBlock else DecoderBottleneck
        self._in_channels = 512 * block.expansion
        self.layer1 = self._stage(decoder_block, 256, blocks[0], width)
        self.layer2 = self._stage(decoder_block, 128, blocks[1], width)
        self.layer3 = self._stage(decoder_block, 64, blocks[2], width)
        _initialise(self)

    def _stage(
        self, block: type[DecoderBasicBlock] | type[DecoderBottleneck], planes: int, blocks: int, width: int
    ) -> nn.Sequential:
        layers = [block(self._in_channels, planes, 2, width)]
        self._in_channels = planes * block.expansion
        layers += [block(self._in_channels, planes, 1, width) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, embedding: Tensor) -> list[Tensor]:
        deep = self.layer1(embedding)
        middle = self.layer2(deep)
        return [self.layer3(middle), middle, deep]

"""ResNet-18 and Wide-ResNet-50-2 (He et al. 2016; Zagoruyko & Komodakis 2016) in plain torch.

Module and parameter names follow torchvision's `torchvision.models.resnet` exactly (`conv1`, `bn1`, `layer1.0.conv1`,
`layer1.0.downsample.0`, `fc`...), so the official ImageNet checkpoints load with `load_state_dict(strict=True)`.
"""

from torch import Tensor, nn


def _conv3x3(in_channels: int, out_channels: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, groups=groups, bias=False)


def _conv1x1(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with an identity (or 1x1 projection) shortcut."""

    expansion = 1

    def __init__(
        self, in_channels: int, planes: int, stride: int = 1, downsample: nn.Module | None = None, width: int = 64
    ) -> None:
        super().__init__()
        if width != 64:
            raise ValueError("BasicBlock only supports width 64")
        self.conv1 = _conv3x3(in_channels, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (stride here, as torchvision's "ResNet V1.5"), 1x1 expand; `width` widens the middle."""

    expansion = 4

    def __init__(
        self, in_channels: int, planes: int, stride: int = 1, downsample: nn.Module | None = None, width: int = 64
    ) -> None:
        super().__init__()
        middle = int(planes * (width / 64.0))
        self.conv1 = _conv1x1(in_channels, middle)
        self.bn1 = nn.BatchNorm2d(middle)
        self.conv2 = _conv3x3(middle, middle, stride)
        self.bn2 = nn.BatchNorm2d(middle)
        self.conv3 = _conv1x1(middle, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """The ImageNet ResNet: stem (conv1, bn1, relu, maxpool), four stages, global pooling and a classifier.

    `base_channels` (64 in torchvision) sets the stem's width, each stage doubles it; a shorter `blocks_per_stage`
    builds only the first stages (openlv's own backbone stops after layer3, all that PatchCore, PaDiM and STFPM use).
    """

    stage_names: tuple[str, ...] = ("layer1", "layer2", "layer3", "layer4")

    def __init__(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        blocks_per_stage: tuple[int, ...],
        width: int = 64,
        num_classes: int = 1000,
        base_channels: int = 64,
    ) -> None:
        super().__init__()
        self._block = block
        self._width = width
        self._in_channels = base_channels
        self.stage_names = ResNet.stage_names[: len(blocks_per_stage)]
        self.conv1 = nn.Conv2d(3, base_channels, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(base_channels)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        planes = [base_channels * 2**index for index in range(len(blocks_per_stage))]
        for index, (name, stage_planes, blocks) in enumerate(zip(self.stage_names, planes, blocks_per_stage)):
            self.add_module(name, self._make_stage(stage_planes, blocks, stride=1 if index == 0 else 2))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(planes[-1] * block.expansion, num_classes)
        self.stage_channels = {name: p * block.expansion for name, p in zip(self.stage_names, planes)}
        self._initialise()

    def _make_stage(self, planes: int, blocks: int, stride: int) -> nn.Sequential:
        out_channels = planes * self._block.expansion
        downsample = None
        if stride != 1 or self._in_channels != out_channels:
            downsample = nn.Sequential(_conv1x1(self._in_channels, out_channels, stride), nn.BatchNorm2d(out_channels))
        layers = [self._block(self._in_channels, planes, stride, downsample, self._width)]
        self._in_channels = out_channels
        layers += [self._block(out_channels, planes, width=self._width) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def _initialise(self) -> None:
        """torchvision's initialisation: He-normal (fan-out) convolutions, unit BatchNorm scale, zero shift."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def stem(self, x: Tensor) -> Tensor:
        return self.maxpool(self.relu(self.bn1(self.conv1(x))))

    def forward(self, x: Tensor) -> Tensor:
        x = self.stem(x)
        for name in self.stage_names:
            x = getattr(self, name)(x)
        return self.fc(self.avgpool(x).flatten(1))


def resnet18() -> ResNet:
    return ResNet(BasicBlock, (2, 2, 2, 2))


def wide_resnet50_2() -> ResNet:
    return ResNet(Bottleneck, (3, 4, 6, 3), width=128)


def openlv_resnet18_w32(num_classes: int = 16) -> ResNet:
    """ResNet-18's first three stages at half width (32-64-128 channels): the backbone openlv pretrains and ships."""
    return ResNet(BasicBlock, (2, 2, 2), num_classes=num_classes, base_channels=32)


ARCHITECTURES = {"resnet18": resnet18, "wide_resnet50_2": wide_resnet50_2, "openlv_resnet18_w32": openlv_resnet18_w32}

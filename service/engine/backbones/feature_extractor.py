"""Named intermediate ResNet stages as features, without computing (or keeping) the stages after the last one used."""

from collections.abc import Sequence

from torch import Tensor, nn

from service.engine.backbones.resnet import ResNet


class FeatureExtractor(nn.Module):
    """Returns `{stage name: feature map}` for the requested stages (`layer1`..`layer4`) of a ResNet.

    Stages after the deepest requested one, the pooling and the classifier are dropped, so they cost neither time nor
    memory and stay out of state dicts and exported graphs. A frozen extractor (the default) has no trainable
    parameters and stays in eval mode (BatchNorm uses its ImageNet statistics) even inside a module put in train mode.
    """

    def __init__(self, backbone: ResNet, layers: Sequence[str], *, frozen: bool = True) -> None:
        super().__init__()
        stages = backbone.stage_names
        unknown = [name for name in layers if name not in stages]
        if not layers or unknown:
            raise ValueError(f"layers must be a non-empty subset of {stages}, got {list(layers)}")
        self.layers = tuple(sorted(set(layers), key=stages.index))
        deepest = stages.index(self.layers[-1])
        self.stage_names = stages[: deepest + 1]
        self.conv1, self.bn1, self.relu, self.maxpool = backbone.conv1, backbone.bn1, backbone.relu, backbone.maxpool
        for name in self.stage_names:
            self.add_module(name, getattr(backbone, name))
        self.channels = {name: backbone.stage_channels[name] for name in self.layers}
        self.frozen = frozen
        if frozen:
            self.requires_grad_(False)
            self.eval()

    def train(self, mode: bool = True) -> "FeatureExtractor":
        return super().train(mode and not self.frozen)

    def forward(self, images: Tensor) -> dict[str, Tensor]:
        x = self.maxpool(self.relu(self.bn1(self.conv1(images))))
        features: dict[str, Tensor] = {}
        for name in self.stage_names:
            x = getattr(self, name)(x)
            if name in self.layers:
                features[name] = x
        return features

"""PaDiM's typed hyperparameters (defaults: README.md)."""

from typing import Literal

from pydantic import Field, field_validator

from service.engine.models.base import Hyperparameters

STAGES = ("layer1", "layer2", "layer3", "layer4")


class PadimHyperparameters(Hyperparameters):
    backbone: Literal["resnet18", "wide_resnet50_2"] = "resnet18"
    weights: str = Field("imagenet", description='"imagenet", "random" or the path of a torchvision state dict')
    layers: tuple[str, ...] = ("layer1", "layer2", "layer3")
    feature_dim: int | None = Field(None, ge=1, description="random channel subset size; 100 (resnet18), 550 (wrn50)")
    image_size: int = Field(256, ge=32)
    seed: int = 0

    @field_validator("layers")
    @classmethod
    def _known_stages(cls, layers: tuple[str, ...]) -> tuple[str, ...]:
        if not layers or any(layer not in STAGES for layer in layers) or len(set(layers)) != len(layers):
            raise ValueError(f"layers must be distinct names among {', '.join(STAGES)}")
        return tuple(sorted(layers, key=STAGES.index))

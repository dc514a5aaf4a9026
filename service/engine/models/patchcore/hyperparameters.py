"""PatchCore's typed hyperparameters (defaults: README.md)."""

from typing import Literal

from pydantic import Field, field_validator

from service.engine.models.base import Hyperparameters

STAGES = ("layer1", "layer2", "layer3", "layer4")


class PatchcoreHyperparameters(Hyperparameters):
    backbone: Literal["resnet18", "wide_resnet50_2"] = "resnet18"
    weights: str = Field("imagenet", description='"imagenet", "random" or the path of a torchvision state dict')
    layers: tuple[str, ...] = ("layer2", "layer3")
    coreset_ratio: float = Field(0.1, gt=0, le=1)
    max_memory_bank: int = Field(
        8192, ge=1, description="Cap on the coreset size: inference cost and memory grow with the bank, not accuracy."
    )
    num_neighbors: int = Field(9, ge=1)
    pre_projection_dim: int = Field(128, ge=1)
    seed: int = 0

    @field_validator("layers")
    @classmethod
    def _known_stages(cls, layers: tuple[str, ...]) -> tuple[str, ...]:
        if not layers or any(layer not in STAGES for layer in layers) or len(set(layers)) != len(layers):
            raise ValueError(f"layers must be distinct names among {', '.join(STAGES)}")
        return tuple(sorted(layers, key=STAGES.index))

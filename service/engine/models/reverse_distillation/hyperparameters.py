"""Reverse Distillation's typed hyperparameters (defaults: README.md)."""

from typing import Literal

from pydantic import Field, field_validator

from service.engine.models.base import Hyperparameters
from service.engine.models.budget import EpochBudgetHyperparameters


class ReverseDistillationHyperparameters(Hyperparameters, EpochBudgetHyperparameters):
    """Defaults follow the paper (Adam lr 0.005, betas 0.5 / 0.999) on ResNet-18, the backbone every other openlv
    model defaults to (the paper's is Wide-ResNet-50-2, also available). The teacher's stages are always layer1..layer3
    (the decoder mirrors them), so there is no `layers`; `image_size` must be a multiple of 32 (the bottleneck's
    stride). Training stops after `max_epochs` or `max_minutes`."""

    backbone: Literal["resnet18", "wide_resnet50_2"] = "resnet18"
    weights: str = Field("imagenet", description='"imagenet", "random" or the path of a torchvision state dict')
    seed: int = 0
    learning_rate: float = Field(0.005, gt=0)
    beta1: float = Field(0.5, ge=0, lt=1)
    beta2: float = Field(0.999, ge=0, lt=1)

    @field_validator("weights")
    @classmethod
    def _not_openlv(cls, weights: str) -> str:
        if weights == "openlv":
            raise ValueError("the decoder mirrors a full-width ResNet; openlv's half-width backbone does not fit it")
        return weights

    @field_validator("image_size")
    @classmethod
    def _multiple_of_32(cls, image_size: int) -> int:
        if image_size < 64 or image_size % 32:
            raise ValueError("image_size must be a multiple of 32, at least 64")
        return image_size

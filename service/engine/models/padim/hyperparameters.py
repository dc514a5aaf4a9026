"""PaDiM's typed hyperparameters (defaults: README.md)."""

from pydantic import Field

from service.engine.models.base import BackboneHyperparameters


class PadimHyperparameters(BackboneHyperparameters):
    layers: tuple[str, ...] = ("layer1", "layer2", "layer3")
    feature_dim: int | None = Field(None, ge=1, description="random channel subset size; 100 (resnet18), 550 (wrn50)")
    image_size: int = Field(256, ge=32)

"""EfficientAD's typed hyperparameters (defaults: README.md)."""

from pydantic import Field, field_validator

from service.engine.models.base import BackboneHyperparameters
from service.engine.models.efficient_ad.networks import check_image_size


class EfficientAdHyperparameters(BackboneHyperparameters):
    """`backbone`, `weights` and `layers` name what the teacher PDN is distilled from (the paper distils from a
    Wide-ResNet-101 on ImageNet; no such checkpoint is available here, see README). Training is bounded by
    `max_steps` and `max_minutes`, whichever ends first; the first `distillation_fraction` of both distils the teacher,
    the rest trains the student and the autoencoder."""

    image_size: int = 256
    layers: tuple[str, ...] = ("layer2", "layer3")
    out_channels: int = Field(384, ge=8)
    batch_size: int = Field(1, ge=1)
    learning_rate: float = Field(1e-3, gt=0)
    weight_decay: float = Field(1e-5, ge=0)
    max_steps: int = Field(3000, ge=2)
    max_minutes: float = Field(10.0, gt=0)
    distillation_fraction: float = Field(0.3, gt=0, lt=1)
    hard_quantile: float = Field(0.999, ge=0, lt=1, description="student loss: only distances above this quantile")
    penalty_weight: float = Field(1.0, ge=0, description="weight of the student's penalty on procedural images")

    @field_validator("image_size")
    @classmethod
    def _multiple_of_32(cls, image_size: int) -> int:
        check_image_size(image_size)
        return image_size

"""Reverse Distillation: a student decoder reconstructs a frozen teacher's features from a one-class embedding."""

from service.engine.models.base import ModelSpec
from service.engine.models.reverse_distillation.hyperparameters import ReverseDistillationHyperparameters
from service.engine.models.reverse_distillation.lightning_model import ReverseDistillationLightning
from service.engine.models.reverse_distillation.torch_model import ReverseDistillationModel

SPEC = ModelSpec(
    name="reverse_distillation",
    description=(
        "Reverse Distillation (Deng & Li 2022): a student decoder rebuilds a pretrained teacher's features from a "
        "one-class embedding; needs ImageNet weights."
    ),
    hyperparameters=ReverseDistillationHyperparameters,
    build=ReverseDistillationLightning,
    needs_pretrained=True,
)

__all__ = [
    "SPEC",
    "ReverseDistillationHyperparameters",
    "ReverseDistillationLightning",
    "ReverseDistillationModel",
]

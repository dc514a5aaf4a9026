"""The from-scratch anomaly segmenter (DRAEM-like, no pretrained weights)."""

from service.engine.models.base import ModelSpec
from service.engine.models.draem.hyperparameters import DraemHyperparameters
from service.engine.models.draem.lightning_model import DraemLightning
from service.engine.models.draem.torch_model import DraemModel

SPEC = ModelSpec(
    name="draem",
    description=(
        "Segmentation network trained from scratch against synthetic defects (DRAEM-like); needs no pretrained weights."
    ),
    hyperparameters=DraemHyperparameters,
    build=DraemLightning,
    needs_pretrained=False,
)

__all__ = ["SPEC", "DraemHyperparameters", "DraemLightning", "DraemModel"]

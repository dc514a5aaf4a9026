"""STFPM (student-teacher feature pyramid matching)."""

from service.engine.models.base import ModelSpec
from service.engine.models.stfpm.hyperparameters import StfpmHyperparameters
from service.engine.models.stfpm.lightning_model import StfpmLightning
from service.engine.models.stfpm.torch_model import StfpmModel

SPEC = ModelSpec(
    name="stfpm",
    description="Student-teacher feature pyramid matching (Wang et al. 2021); needs an ImageNet teacher.",
    hyperparameters=StfpmHyperparameters,
    build=StfpmLightning,
    needs_pretrained=True,
)

__all__ = ["SPEC", "StfpmHyperparameters", "StfpmLightning", "StfpmModel"]

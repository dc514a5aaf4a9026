"""PaDiM: per-position Gaussians of pretrained features, scored by Mahalanobis distance."""

from service.engine.models.base import ModelSpec
from service.engine.models.padim.hyperparameters import PadimHyperparameters
from service.engine.models.padim.lightning_model import PadimLightning
from service.engine.models.padim.torch_model import PadimModel

SPEC = ModelSpec(
    name="padim",
    description="PaDiM (Defard et al. 2020): per-position Gaussians of pretrained features, Mahalanobis distance",
    hyperparameters=PadimHyperparameters,
    build=PadimLightning,
    needs_pretrained=True,
)

__all__ = ["SPEC", "PadimHyperparameters", "PadimLightning", "PadimModel"]

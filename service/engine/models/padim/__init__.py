"""PaDiM: per-position Gaussians of pretrained features, scored by Mahalanobis distance."""

from service.engine.models.padim.hyperparameters import PadimHyperparameters
from service.engine.models.padim.lightning_model import Padim
from service.engine.models.padim.torch_model import PadimModel
from service.engine.registry import ModelSpec, register

__all__ = ["Padim", "PadimHyperparameters", "PadimModel"]

register(
    ModelSpec(
        name="padim",
        description="PaDiM (Defard et al. 2020): per-position Gaussians of pretrained features, Mahalanobis distance",
        hyperparameters=PadimHyperparameters,
        build=Padim,
        needs_pretrained=True,
    )
)

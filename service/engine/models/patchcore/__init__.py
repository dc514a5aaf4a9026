"""PatchCore: a coreset memory bank of ImageNet patch features, scored by nearest-neighbour distance."""

from service.engine.models.patchcore.hyperparameters import PatchcoreHyperparameters
from service.engine.models.patchcore.lightning_model import Patchcore
from service.engine.models.patchcore.torch_model import PatchcoreModel
from service.engine.registry import ModelSpec, register

__all__ = ["Patchcore", "PatchcoreHyperparameters", "PatchcoreModel"]

register(
    ModelSpec(
        name="patchcore",
        description="PatchCore (Roth et al. 2022): nearest-neighbour search in a coreset of pretrained patch features",
        hyperparameters=PatchcoreHyperparameters,
        build=Patchcore,
        needs_pretrained=True,
    )
)

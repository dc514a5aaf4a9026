"""PatchCore: a coreset memory bank of ImageNet patch features, scored by nearest-neighbour distance."""

from service.engine.models.base import ModelSpec
from service.engine.models.patchcore.hyperparameters import PatchcoreHyperparameters
from service.engine.models.patchcore.lightning_model import PatchcoreLightning
from service.engine.models.patchcore.torch_model import PatchcoreModel

SPEC = ModelSpec(
    name="patchcore",
    description="PatchCore (Roth et al. 2022): nearest-neighbour search in a coreset of pretrained patch features",
    hyperparameters=PatchcoreHyperparameters,
    build=PatchcoreLightning,
    needs_pretrained=True,
)

__all__ = ["SPEC", "PatchcoreHyperparameters", "PatchcoreLightning", "PatchcoreModel"]

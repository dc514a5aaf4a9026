"""The from-scratch anomaly segmenter (DRAEM-like, no pretrained weights), registered as "draem"."""

import torch

from service.engine.models.draem.lightning_model import DraemHyperparameters, DraemLightning
from service.engine.models.draem.torch_model import DraemModel
from service.engine.registry import ModelSpec, register


def build_draem(hyperparameters: DraemHyperparameters) -> DraemLightning:
    """A freshly initialised model; the initialisation is seeded without touching the global RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(hyperparameters.seed)
        model = DraemModel(
            hyperparameters.image_size,
            base_channels=hyperparameters.base_channels,
            depth=hyperparameters.depth,
            score_top_fraction=hyperparameters.score_top_fraction,
            memory_weight=hyperparameters.memory_weight,
        )
    return DraemLightning(model, hyperparameters)


SPEC = register(
    ModelSpec(
        name="draem",
        description=(
            "Segmentation network trained from scratch against synthetic defects (DRAEM-like); "
            "needs no pretrained weights."
        ),
        hyperparameters=DraemHyperparameters,
        build=build_draem,
        needs_pretrained=False,
    )
)

__all__ = ["SPEC", "DraemHyperparameters", "DraemLightning", "DraemModel", "build_draem"]

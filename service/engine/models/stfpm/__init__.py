"""STFPM (student-teacher feature pyramid matching), registered as "stfpm"."""

from service.engine.backbones import build_feature_extractor
from service.engine.models.stfpm.lightning_model import StfpmHyperparameters, StfpmLightning
from service.engine.models.stfpm.torch_model import StfpmModel
from service.engine.registry import ModelSpec, register


def build_stfpm(hyperparameters: StfpmHyperparameters) -> StfpmLightning:
    """A frozen teacher with `weights` and a randomly initialised, trainable student of the same backbone.

    The student's initialisation is seeded with `seed + 1`, so it never equals a random teacher (seeded with `seed`).
    """
    layers = list(hyperparameters.layers)
    backbone, seed = hyperparameters.backbone, hyperparameters.seed
    teacher = build_feature_extractor(backbone, layers, hyperparameters.weights, seed=seed, frozen=True)
    student = build_feature_extractor(backbone, layers, "random", seed=seed + 1, frozen=False)
    return StfpmLightning(StfpmModel(teacher, student), hyperparameters)


SPEC = register(
    ModelSpec(
        name="stfpm",
        description="Student-teacher feature pyramid matching (Wang et al. 2021); needs an ImageNet teacher.",
        hyperparameters=StfpmHyperparameters,
        build=build_stfpm,
        needs_pretrained=True,
    )
)

__all__ = ["SPEC", "StfpmHyperparameters", "StfpmLightning", "StfpmModel", "build_stfpm"]

"""STFPM (student-teacher feature pyramid matching), registered as "stfpm"."""

from service.engine.backbones import build_feature_extractor
from service.engine.models.stfpm.lightning_model import StfpmHyperparameters, StfpmLightning
from service.engine.models.stfpm.torch_model import StfpmModel
from service.engine.registry import ModelSpec, register


def build_stfpm(hyperparameters: StfpmHyperparameters) -> StfpmLightning:
    """A frozen teacher with `weights` and a randomly initialised, trainable student of the same backbone."""
    layers = list(hyperparameters.layers)
    teacher = build_feature_extractor(hyperparameters.backbone, layers, hyperparameters.weights, frozen=True)
    student = build_feature_extractor(
        hyperparameters.backbone, layers, "random", seed=hyperparameters.seed, frozen=False
    )
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

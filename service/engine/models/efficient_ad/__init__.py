"""EfficientAD-S (student, autoencoder and a distilled teacher PDN)."""

from service.engine.models.base import ModelSpec
from service.engine.models.efficient_ad.hyperparameters import EfficientAdHyperparameters
from service.engine.models.efficient_ad.lightning_model import EfficientAdLightning
from service.engine.models.efficient_ad.torch_model import EfficientAdModel

SPEC = ModelSpec(
    name="efficient_ad",
    description=(
        "EfficientAD-S (Batzner et al. 2024): a student PDN and an autoencoder against a teacher PDN distilled "
        "from the backbone's features on the training images and procedural textures."
    ),
    hyperparameters=EfficientAdHyperparameters,
    build=EfficientAdLightning,
    needs_pretrained=True,
)

__all__ = ["SPEC", "EfficientAdHyperparameters", "EfficientAdLightning", "EfficientAdModel"]

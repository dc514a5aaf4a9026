"""FastFlow: 2D normalising flows on frozen ImageNet features, scored by the latent's likelihood."""

from service.engine.models.base import ModelSpec
from service.engine.models.fastflow.hyperparameters import FastflowHyperparameters
from service.engine.models.fastflow.lightning_model import FastflowLightning
from service.engine.models.fastflow.torch_model import FastflowModel

SPEC = ModelSpec(
    name="fastflow",
    description="FastFlow (Yu et al. 2021): 2D normalising flows on pretrained features; needs ImageNet weights.",
    hyperparameters=FastflowHyperparameters,
    build=FastflowLightning,
    needs_pretrained=True,
)

__all__ = ["SPEC", "FastflowHyperparameters", "FastflowLightning", "FastflowModel"]

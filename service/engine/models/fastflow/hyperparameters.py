"""FastFlow's typed hyperparameters (defaults: README.md)."""

from pydantic import Field

from service.engine.models.base import BackboneHyperparameters
from service.engine.models.budget import EpochBudgetHyperparameters


class FastflowHyperparameters(BackboneHyperparameters, EpochBudgetHyperparameters):
    """Defaults follow the paper for ResNet-18 (layer1..layer3, 8 flow steps alternating 3x3 and 1x1 kernels, hidden
    ratio 1, Adam lr 1e-3, weight decay 1e-5); training stops after `max_epochs` or `max_minutes`."""

    flow_steps: int = Field(8, ge=1)
    hidden_ratio: float = Field(1.0, gt=0)
    clamp: float = Field(2.0, gt=0, description="soft clamp of the coupling log-scales")
    conv3x3_only: bool = False
    learning_rate: float = Field(1e-3, gt=0)
    weight_decay: float = Field(1e-5, ge=0)

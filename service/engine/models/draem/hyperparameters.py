"""The from-scratch model's typed hyperparameters (defaults: README.md)."""

from pydantic import Field

from service.engine.models.base import Hyperparameters


class DraemHyperparameters(Hyperparameters):
    """Defaults measured on magnetic_tile and elpv_mono (see README); no pretrained weights are ever used."""

    image_size: int = 128
    base_channels: int = 16
    depth: int = 4
    batch_size: int = 16
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 50
    max_steps: int = 2000
    max_minutes: float = 10.0
    anomaly_probability: float = 0.5
    min_blend: float = 0.3
    score_top_fraction: float = 0.01
    memory_weight: float = Field(0.5, ge=0, description="weight of the normal-patch memory in the map; 0 turns it off")
    memory_size: int = Field(4096, ge=1, description="patches kept in the memory (greedy coreset)")
    seed: int = 0

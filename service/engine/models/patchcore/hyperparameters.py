"""PatchCore's typed hyperparameters (defaults: README.md)."""

from pydantic import Field

from service.engine.models.base import BackboneHyperparameters


class PatchcoreHyperparameters(BackboneHyperparameters):
    layers: tuple[str, ...] = ("layer2", "layer3")
    coreset_ratio: float = Field(0.1, gt=0, le=1)
    max_memory_bank: int = Field(
        8192, ge=1, description="Cap on the coreset size: inference cost and memory grow with the bank, not accuracy."
    )
    max_candidate_patches: int = Field(
        262144,
        ge=1,
        description="Patch features kept for the coreset, a uniform sample of all of them: bounds training memory "
        "(about 128 MiB at 128 dimensions) however many images or tiles the training set has.",
    )
    num_neighbors: int = Field(9, ge=1)
    pre_projection_dim: int = Field(128, ge=1)

"""STFPM's training loss."""

import torch

from service.engine.models.stfpm.torch_model import layer_distances


def feature_pyramid_loss(teacher: dict[str, torch.Tensor], student: dict[str, torch.Tensor]) -> torch.Tensor:
    """Sum over layers of the per-position distance averaged over positions and the batch (paper, eq. 2-3)."""
    return torch.stack([layer_distances(teacher[layer], student[layer]).mean() for layer in teacher]).sum()

"""Reverse Distillation's training loss."""

import torch
import torch.nn.functional as F


def reverse_distillation_loss(teacher: list[torch.Tensor], student: list[torch.Tensor]) -> torch.Tensor:
    """Sum over layers of the mean over images of 1 - cosine similarity between the flattened teacher and student
    maps (the official implementation's loss; the paper writes it per position)."""
    losses = [
        (1.0 - F.cosine_similarity(t.flatten(1), s.flatten(1), dim=1)).mean()
        for t, s in zip(teacher, student, strict=True)
    ]
    return torch.stack(losses).sum()

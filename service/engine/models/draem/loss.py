"""Segmentation loss for synthetic-defect training: focal loss for the rare defect pixels plus soft Dice."""

import torch
import torch.nn.functional as F


def focal_loss(logits: torch.Tensor, targets: torch.Tensor, gamma: float = 2.0, alpha: float = 0.75) -> torch.Tensor:
    """Binary focal loss (Lin et al. 2017); `alpha` weights the defect class, which covers few pixels."""
    cross_entropy = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    probability_of_truth = torch.exp(-cross_entropy)
    weights = alpha * targets + (1 - alpha) * (1 - targets)
    return (weights * (1 - probability_of_truth) ** gamma * cross_entropy).mean()


def soft_dice_loss(logits: torch.Tensor, targets: torch.Tensor, smooth: float = 1.0) -> torch.Tensor:
    """1 - Dice over the whole batch, so defect-free images only contribute their false positives."""
    probabilities = torch.sigmoid(logits)
    intersection = (probabilities * targets).sum()
    return 1 - (2 * intersection + smooth) / (probabilities.sum() + targets.sum() + smooth)


def segmentation_loss(logits: torch.Tensor, targets: torch.Tensor, dice_weight: float = 1.0) -> torch.Tensor:
    return 10.0 * focal_loss(logits, targets) + dice_weight * soft_dice_loss(logits, targets)

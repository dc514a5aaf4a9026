"""EfficientAD's training losses and the input jitter of its autoencoder branch."""

import math

import torch


def upper_quantile(values: torch.Tensor, quantile: float) -> torch.Tensor:
    """The `quantile` of all of `values` (kthvalue: no size limit, unlike torch.quantile's 16M elements)."""
    flat = values.flatten()
    k = min(flat.numel(), max(1, math.ceil(quantile * flat.numel())))
    return flat.kthvalue(k).values


def hard_feature_loss(teacher: torch.Tensor, student: torch.Tensor, quantile: float) -> torch.Tensor:
    """Mean squared difference over the elements at or above the batch's `quantile` of it (the paper's hard feature
    loss: the student stops improving where it already imitates the teacher well enough)."""
    distances = (teacher - student) ** 2
    return distances[distances >= upper_quantile(distances.detach(), quantile)].mean()


def colour_jitter(images: torch.Tensor, generator: torch.Generator, strength: float = 0.2) -> torch.Tensor:
    """Per image, one of brightness, contrast or saturation scaled by a factor in [1 - strength, 1 + strength]
    (the paper's augmentation of the autoencoder's input); (B, 3, H, W) in [0, 1], on the CPU."""
    batch = images.shape[0]
    kind = torch.randint(0, 3, (batch,), generator=generator)[:, None, None, None]
    factor = (1 + strength * (2 * torch.rand(batch, generator=generator) - 1))[:, None, None, None]
    grey = (0.299 * images[:, 0:1] + 0.587 * images[:, 1:2] + 0.114 * images[:, 2:3]).expand_as(images)
    mean_grey = grey.mean(dim=(1, 2, 3), keepdim=True)
    brightness = images * factor
    contrast = mean_grey + (images - mean_grey) * factor
    saturation = grey + (images - grey) * factor
    jittered = torch.where(kind == 0, brightness, torch.where(kind == 1, contrast, saturation))
    return jittered.clamp(0, 1)

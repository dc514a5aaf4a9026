"""Label-preserving variation of normal images: flips and global brightness/contrast changes (per sample)."""

import torch


def vary_normal_images(
    images: torch.Tensor,
    flip: bool,
    brightness: float,
    contrast: float,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Randomly flip each (B, 3, H, W) image in [0, 1] and shift its brightness / scale its contrast.

    Global photometric changes are normal (lighting drifts), so the model learns not to flag them.
    """
    batch = images.shape[0]
    if flip:
        flip_x = torch.rand(batch, generator=generator)[:, None, None, None] < 0.5
        flip_y = torch.rand(batch, generator=generator)[:, None, None, None] < 0.5
        images = torch.where(flip_x, images.flip(-1), images)
        images = torch.where(flip_y, images.flip(-2), images)
    if brightness > 0 or contrast > 0:
        shift = (torch.rand(batch, generator=generator) * 2 - 1) * brightness
        scale = 1 + (torch.rand(batch, generator=generator) * 2 - 1) * contrast
        mean = images.mean(dim=(1, 2, 3), keepdim=True)
        images = (images - mean) * scale[:, None, None, None] + mean + shift[:, None, None, None]
    return images.clamp(0, 1)

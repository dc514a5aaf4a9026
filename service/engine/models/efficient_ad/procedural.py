"""Procedural images: stand-ins for the ImageNet images EfficientAD distils its teacher on and penalises its student
with, for sites (like this one) that have no ImageNet. Coloured multi-scale Perlin textures with random contrast."""

import torch

from service.engine.augment import perlin_noise


def procedural_images(count: int, size: int, generator: torch.Generator) -> torch.Tensor:
    """(count, 3, size, size) images in [0, 1]: per channel, a sum of three Perlin octaves with random lattice
    resolutions (2-32 cells per side, anisotropic), then a random per-image contrast and offset."""
    channels = []
    for _ in range(3):
        texture = torch.zeros(count, size, size)
        for octave in range(3):
            cells = 2 ** (octave + 1)
            resolution_y = torch.randint(cells, 4 * cells + 1, (count,), generator=generator)
            resolution_x = torch.randint(cells, 4 * cells + 1, (count,), generator=generator)
            texture += perlin_noise(resolution_y, resolution_x, size, size, generator) / (octave + 1)
        channels.append(texture)
    images = torch.stack(channels, dim=1)
    contrast = 0.3 + 0.7 * torch.rand(count, 1, 1, 1, generator=generator)
    offset = 0.2 + 0.6 * torch.rand(count, 1, 1, 1, generator=generator)
    return (offset + contrast * images).clamp(0, 1)

"""Perlin gradient noise on a batch, each sample with its own lattice resolution (vectorised, no Python loops)."""

import math

import torch


def _fade(t: torch.Tensor) -> torch.Tensor:
    return t * t * t * (t * (t * 6 - 15) + 10)


def perlin_noise(
    resolution_y: torch.Tensor,
    resolution_x: torch.Tensor,
    height: int,
    width: int,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Return (B, H, W) Perlin noise in about [-0.7, 0.7].

    `resolution_y` / `resolution_x` are (B,) integer tensors: the number of lattice cells across each axis for each
    sample, so one call mixes coarse blobs and fine, elongated (anisotropic) shapes.
    """
    batch = resolution_y.shape[0]
    max_cells = int(max(int(resolution_y.max()), int(resolution_x.max())))
    angles = torch.rand(batch, max_cells + 1, max_cells + 1, generator=generator) * (2 * math.pi)
    gradients = torch.stack((torch.cos(angles), torch.sin(angles)), dim=-1)

    ys = torch.arange(height, dtype=torch.float32)[None, :] * resolution_y[:, None].float() / height
    xs = torch.arange(width, dtype=torch.float32)[None, :] * resolution_x[:, None].float() / width
    y0, x0 = ys.floor().long(), xs.floor().long()
    fy, fx = ys - y0, xs - x0

    rows = torch.arange(batch)[:, None, None]

    def corner(dy: int, dx: int) -> torch.Tensor:
        grad = gradients[rows, (y0 + dy)[:, :, None], (x0 + dx)[:, None, :]]
        return grad[..., 0] * (fx - dx)[:, None, :] + grad[..., 1] * (fy - dy)[:, :, None]

    wy, wx = _fade(fy)[:, :, None], _fade(fx)[:, None, :]
    top = torch.lerp(corner(0, 0), corner(0, 1), wx)
    bottom = torch.lerp(corner(1, 0), corner(1, 1), wx)
    return torch.lerp(top, bottom, wy)

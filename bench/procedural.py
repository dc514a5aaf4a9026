"""Procedurally generated training images for the openlv backbone: no downloaded data, every pixel from a seed.

Eight generator families (fractal noise, smooth clouds, gratings, Voronoi grains, shapes, tilings, Julia fractals,
rings), each at a coarse and a fine scale, give 16 classes; random contrast, gamma, colour and sensor noise follow.
Half of the images then receive synthetic defects (blobs, scratches, pasted patches of another image) with their
pixel mask. Everything is vectorised torch drawing from one `torch.Generator`, so a batch is a function of its seed.
"""

import math
from collections.abc import Callable

import torch
from torch import Tensor

FAMILIES = ("rough_noise", "clouds", "gratings", "grains", "shapes", "tilings", "julia", "rings")
NUM_CLASSES = 2 * len(FAMILIES)


def _uniform(gen: torch.Generator, n: int, low: float, high: float) -> Tensor:
    return low + (high - low) * torch.rand(n, generator=gen)


def _grid(n: int, size: int) -> tuple[Tensor, Tensor]:
    """Coordinates in [-1, 1], shaped (n, size, size)."""
    axis = torch.linspace(-1.0, 1.0, size)
    y, x = torch.meshgrid(axis, axis, indexing="ij")
    return y.expand(n, size, size), x.expand(n, size, size)


def _normalise(images: Tensor) -> Tensor:
    flat = images.flatten(1)
    low, high = flat.min(1).values, flat.max(1).values
    return (images - low[:, None, None]) / (high - low).clamp_min(1e-6)[:, None, None]


def _spectral_noise(gen: torch.Generator, n: int, size: int, beta: Tensor) -> Tensor:
    """Gaussian noise filtered to a 1/f^beta power spectrum (beta per image)."""
    noise = torch.randn(n, size, size, generator=gen)
    fy = torch.fft.fftfreq(size)[:, None]
    fx = torch.fft.rfftfreq(size)[None, :]
    radius = torch.sqrt(fy**2 + fx**2).clamp_min(1.0 / size)
    spectrum = torch.fft.rfft2(noise) / radius[None] ** (beta[:, None, None] / 2)
    return _normalise(torch.fft.irfft2(spectrum, s=(size, size)))


def rough_noise(gen: torch.Generator, n: int, size: int, fine: bool) -> Tensor:
    return _spectral_noise(gen, n, size, _uniform(gen, n, 0.6, 1.3) if fine else _uniform(gen, n, 1.3, 2.0))


def clouds(gen: torch.Generator, n: int, size: int, fine: bool) -> Tensor:
    base = _spectral_noise(gen, n, size, _uniform(gen, n, 2.4, 3.2) if fine else _uniform(gen, n, 3.2, 4.2))
    return base ** _uniform(gen, n, 0.5, 2.0)[:, None, None]


def gratings(gen: torch.Generator, n: int, size: int, fine: bool) -> Tensor:
    y, x = _grid(n, size)
    out = torch.zeros(n, size, size)
    for _ in range(3):
        angle = _uniform(gen, n, 0, math.pi)[:, None, None]
        freq = (_uniform(gen, n, 12, 30) if fine else _uniform(gen, n, 2, 8))[:, None, None]
        phase = _uniform(gen, n, 0, 2 * math.pi)[:, None, None]
        amplitude = _uniform(gen, n, 0, 1)[:, None, None]
        out = out + amplitude * torch.sin(freq * (x * torch.cos(angle) + y * torch.sin(angle)) + phase)
    square = torch.rand(n, generator=gen) < 0.3
    out = torch.where(square[:, None, None], torch.sign(out), out)
    return _normalise(out)


def grains(gen: torch.Generator, n: int, size: int, fine: bool) -> Tensor:
    count = 48 if fine else 10
    y, x = _grid(n, size)
    points = torch.rand(n, count, 2, generator=gen) * 2 - 1
    distance = (y[:, None] - points[:, :, 0, None, None]) ** 2 + (x[:, None] - points[:, :, 1, None, None]) ** 2
    nearest = distance.topk(2, dim=1, largest=False)
    values = torch.rand(n, count, generator=gen)
    cells = torch.gather(values, 1, nearest.indices[:, 0].flatten(1)).view(n, size, size)
    edges = (nearest.values[:, 1].sqrt() - nearest.values[:, 0].sqrt()) < _uniform(gen, n, 0.01, 0.05)[:, None, None]
    edge_level = _uniform(gen, n, 0, 1)[:, None, None]
    return torch.where(edges, edge_level, cells)


def shapes(gen: torch.Generator, n: int, size: int, fine: bool) -> Tensor:
    y, x = _grid(n, size)
    out = _spectral_noise(gen, n, size, _uniform(gen, n, 2.0, 3.0)) * 0.3
    for _ in range(12 if fine else 4):
        cy, cx = _uniform(gen, n, -1, 1)[:, None, None], _uniform(gen, n, -1, 1)[:, None, None]
        radius = (_uniform(gen, n, 0.04, 0.12) if fine else _uniform(gen, n, 0.15, 0.45))[:, None, None]
        aspect = _uniform(gen, n, 0.3, 1.0)[:, None, None]
        angle = _uniform(gen, n, 0, math.pi)[:, None, None]
        u = (x - cx) * torch.cos(angle) + (y - cy) * torch.sin(angle)
        v = -(x - cx) * torch.sin(angle) + (y - cy) * torch.cos(angle)
        box = torch.rand(n, generator=gen)[:, None, None] < 0.5
        inside_ellipse = (u / radius) ** 2 + (v / (radius * aspect)) ** 2 < 1
        inside_box = (u.abs() < radius) & (v.abs() < radius * aspect)
        inside = torch.where(box, inside_box, inside_ellipse)
        out = torch.where(inside, _uniform(gen, n, 0, 1)[:, None, None], out)
    return out


def tilings(gen: torch.Generator, n: int, size: int, fine: bool) -> Tensor:
    y, x = _grid(n, size)
    period = (_uniform(gen, n, 0.08, 0.2) if fine else _uniform(gen, n, 0.3, 0.8))[:, None, None]
    angle = _uniform(gen, n, 0, math.pi / 2)[:, None, None]
    u = (x * torch.cos(angle) + y * torch.sin(angle)) / period
    v = (-x * torch.sin(angle) + y * torch.cos(angle)) / period
    checker = ((torch.floor(u) + torch.floor(v)) % 2).float()
    mortar = (u - torch.floor(u) < 0.08) | (v - torch.floor(v) < 0.08)
    grid = torch.rand(n, generator=gen)[:, None, None] < 0.5
    out = torch.where(grid, mortar.float(), checker)
    return 0.8 * out + 0.2 * _spectral_noise(gen, n, size, _uniform(gen, n, 1.0, 2.5))


def julia(gen: torch.Generator, n: int, size: int, fine: bool) -> Tensor:
    y, x = _grid(n, size)
    zoom = (_uniform(gen, n, 0.15, 0.5) if fine else _uniform(gen, n, 1.0, 1.6))[:, None, None]
    centre_re, centre_im = _uniform(gen, n, -0.5, 0.5)[:, None, None], _uniform(gen, n, -0.5, 0.5)[:, None, None]
    angle = _uniform(gen, n, 0, 2 * math.pi)
    c_radius = _uniform(gen, n, 0.6, 0.8)
    c_re, c_im = (c_radius * torch.cos(angle))[:, None, None], (c_radius * torch.sin(angle))[:, None, None]
    z_re, z_im = x * zoom + centre_re, y * zoom + centre_im
    escape = torch.zeros(n, size, size)
    for _ in range(24):
        z_re, z_im = z_re * z_re - z_im * z_im + c_re, 2 * z_re * z_im + c_im
        bounded = (z_re * z_re + z_im * z_im) < 16
        escape = escape + bounded.float()
        z_re, z_im = z_re.clamp(-8, 8), z_im.clamp(-8, 8)
    return _normalise(torch.sqrt(escape))


def rings(gen: torch.Generator, n: int, size: int, fine: bool) -> Tensor:
    y, x = _grid(n, size)
    cy, cx = _uniform(gen, n, -1.5, 1.5)[:, None, None], _uniform(gen, n, -1.5, 1.5)[:, None, None]
    radius = torch.sqrt((x - cx) ** 2 + (y - cy) ** 2)
    freq = (_uniform(gen, n, 20, 45) if fine else _uniform(gen, n, 4, 12))[:, None, None]
    turbulence = _spectral_noise(gen, n, size, _uniform(gen, n, 2.5, 3.5)) * _uniform(gen, n, 0, 3)[:, None, None]
    return _normalise(torch.sin(freq * radius + turbulence))


GENERATORS: tuple[Callable[[torch.Generator, int, int, bool], Tensor], ...] = (
    rough_noise,
    clouds,
    gratings,
    grains,
    shapes,
    tilings,
    julia,
    rings,
)


def _photometric(gen: torch.Generator, gray: Tensor) -> Tensor:
    """Contrast, gamma, colour (half of the images stay grey) and sensor noise; (n, S, S) -> (n, 3, S, S)."""
    n = gray.shape[0]
    gamma = torch.exp(_uniform(gen, n, -0.7, 0.7))[:, None, None]
    gray = gray.clamp(0, 1) ** gamma
    low = _uniform(gen, n, 0.0, 0.4)[:, None, None]
    high = _uniform(gen, n, 0.6, 1.0)[:, None, None]
    gray = low + (high - low) * gray
    tint = torch.where(
        (torch.rand(n, generator=gen) < 0.5)[:, None], torch.ones(n, 3), _uniform(gen, 3 * n, 0.5, 1.5).view(n, 3)
    )
    images = gray[:, None] * tint[:, :, None, None]
    noise = _uniform(gen, n, 0.0, 0.05)[:, None, None, None]
    return (images + noise * torch.randn(images.shape, generator=gen)).clamp(0, 1)


def _add_defects(gen: torch.Generator, images: Tensor) -> tuple[Tensor, Tensor]:
    """Blobs, scratches and patches pasted from the next image on half of the batch; returns images and masks."""
    n, _, size, _ = images.shape
    y, x = _grid(n, size)
    masks = torch.zeros(n, size, size, dtype=torch.bool)
    donor = images.roll(1, dims=0)
    out = images.clone()
    defective = torch.rand(n, generator=gen) < 0.5
    for _ in range(2):
        cy, cx = _uniform(gen, n, -0.8, 0.8)[:, None, None], _uniform(gen, n, -0.8, 0.8)[:, None, None]
        kind = torch.randint(0, 3, (n,), generator=gen)[:, None, None]
        radius = _uniform(gen, n, 0.03, 0.2)[:, None, None]
        angle = _uniform(gen, n, 0, math.pi)[:, None, None]
        u = (x - cx) * torch.cos(angle) + (y - cy) * torch.sin(angle)
        v = -(x - cx) * torch.sin(angle) + (y - cy) * torch.cos(angle)
        blob = (u / radius) ** 2 + (v / (radius * 0.6)) ** 2 < 1
        scratch = (u.abs() < radius * 2.5) & (v.abs() < _uniform(gen, n, 0.008, 0.03)[:, None, None])
        patch = (u.abs() < radius) & (v.abs() < radius)
        region = torch.where(kind == 0, blob, torch.where(kind == 1, scratch, patch))
        region = region & defective[:, None, None] & (torch.rand(n, generator=gen) < 0.8)[:, None, None]
        shade = _uniform(gen, n, -0.6, 0.6)[:, None, None, None]
        replacement = torch.where((kind == 2)[:, None], donor, (out + shade).clamp(0, 1))
        out = torch.where(region[:, None], replacement, out)
        masks |= region
    return out, masks.float()


def procedural_batch(gen: torch.Generator, batch_size: int, size: int) -> tuple[Tensor, Tensor, Tensor]:
    """`batch_size` images (n, 3, size, size) in [0, 1], their class (family * 2 + fine) and defect masks."""
    labels = torch.randint(0, NUM_CLASSES, (batch_size,), generator=gen)
    gray = torch.empty(batch_size, size, size)
    for label in labels.unique().tolist():
        chosen = (labels == label).nonzero().flatten()
        gray[chosen] = GENERATORS[label // 2](gen, len(chosen), size, bool(label % 2))
    flip = torch.rand(batch_size, generator=gen) < 0.5
    gray = torch.where(flip[:, None, None], gray.transpose(1, 2), gray)
    images, masks = _add_defects(gen, _photometric(gen, gray))
    return images, labels, masks

"""Small MVTec AD shaped datasets drawn on the fly, for tests, demos and smoke benchmarks.

Two kinds: "texture" (a woven, grainy surface whose weave, tint and brightness vary per image) and "object" (a washer
centred on a background, with pose and lighting jitter). Three defects are drawn on test images: a thin scratch, a
stain-like spot and a branching crack. Each mask is exactly the set of pixels the defect changed. Defects brighten
or darken at random and images carry a global brightness jitter larger than any defect's effect on the mean, so mean
brightness alone does not separate normal from anomalous.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

KINDS = ("texture", "object")
DEFECTS = ("scratch", "spot", "crack")

_Defect = Callable[[np.random.Generator, int, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _smooth_noise(rng: np.random.Generator, size: int, sigma: float) -> np.ndarray:
    noise = ndimage.gaussian_filter(rng.standard_normal((size, size)), sigma)
    return noise / (noise.std() + 1e-8)


def _texture(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Woven grainy surface; the whole image is valid ground for defects."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    period = rng.uniform(7.0, 9.0)
    angle = rng.uniform(-0.15, 0.15)
    u = x * np.cos(angle) + y * np.sin(angle)
    v = -x * np.sin(angle) + y * np.cos(angle)
    weave = np.sin(2 * np.pi * u / period + rng.uniform(0, 2 * np.pi)) * np.sin(
        2 * np.pi * v / period + rng.uniform(0, 2 * np.pi)
    )
    gray = 0.5 + 0.12 * weave + 0.05 * _smooth_noise(rng, size, 6.0) + 0.04 * rng.standard_normal((size, size))
    tint = np.array([0.95, 0.85, 0.7]) + rng.uniform(-0.04, 0.04, 3)
    return gray[..., None] * tint, np.ones((size, size), dtype=bool)


def _washer(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """A shaded metal washer on a dark, slightly noisy background; returns the image and the washer's footprint."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    cy, cx = size / 2 + rng.uniform(-0.03, 0.03, 2) * size
    radius = np.hypot(y - cy, x - cx)
    outer = size * rng.uniform(0.36, 0.39)
    inner = outer * rng.uniform(0.42, 0.46)
    body = (radius <= outer) & (radius >= inner)
    light = rng.uniform(0, 2 * np.pi)
    shading = 0.62 + 0.1 * ((x - cx) * np.cos(light) + (y - cy) * np.sin(light)) / outer
    gray = np.where(body, shading, 0.18 + 0.03 * _smooth_noise(rng, size, 3.0))
    gray = gray + 0.025 * rng.standard_normal((size, size))
    tint = np.where(body[..., None], np.array([0.92, 0.94, 1.0]), np.array([0.55, 0.75, 0.6]))
    return gray[..., None] * tint, body


def _line_mask(size: int, points: list[tuple[float, float]], width: int) -> np.ndarray:
    canvas = Image.new("L", (size, size), 0)
    ImageDraw.Draw(canvas).line(points, fill=255, width=width, joint="curve")
    return np.asarray(canvas) > 0


def _random_point_in(rng: np.random.Generator, ground: np.ndarray, margin: int) -> np.ndarray:
    inner = ndimage.binary_erosion(ground, iterations=margin) if margin else ground
    candidates = np.argwhere(inner if inner.any() else ground)
    return candidates[rng.integers(len(candidates))].astype(np.float64)


def _scratch(rng: np.random.Generator, size: int, ground: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    start = _random_point_in(rng, ground, 2)
    angle, length = rng.uniform(0, np.pi), rng.uniform(0.3, 0.5) * size
    bend = rng.uniform(-0.1, 0.1) * length
    direction = np.array([np.sin(angle), np.cos(angle)])
    normal = np.array([-direction[1], direction[0]])
    points = [start + direction * length * t + normal * bend * 4 * t * (1 - t) for t in np.linspace(-0.5, 0.5, 9)]
    mask = _line_mask(size, [(p[1], p[0]) for p in points], width=max(1, size // 64))
    return mask, np.full((size, size), rng.choice([-1.0, 1.0]) * rng.uniform(0.3, 0.4))


def _spot(rng: np.random.Generator, size: int, ground: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    cy, cx = _random_point_in(rng, ground, size // 12)
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    radius = size * rng.uniform(0.05, 0.08)
    wobble = 1 + 0.25 * _smooth_noise(rng, size, size / 16)
    distance = np.hypot(y - cy, x - cx) / (radius * wobble.clip(0.5, 1.5))
    mask = distance <= 1.0
    return mask, rng.choice([-1.0, 1.0]) * (0.22 + 0.12 * (1 - distance.clip(0, 1)))


def _crack(rng: np.random.Generator, size: int, ground: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mask = np.zeros((size, size), dtype=bool)
    start = _random_point_in(rng, ground, 2)
    heading = rng.uniform(0, 2 * np.pi)
    for branch in range(int(rng.integers(2, 4))):
        point, direction = start.copy(), heading + (np.pi if branch == 1 else rng.uniform(-1.0, 1.0) * branch)
        points = [point.copy()]
        for _ in range(int(rng.integers(6, 10))):
            direction += rng.uniform(-0.6, 0.6)
            point = point + size / 40 * np.array([np.sin(direction), np.cos(direction)])
            points.append(point.copy())
        mask |= _line_mask(size, [(p[1], p[0]) for p in points], width=max(1, size // 96))
    return mask, np.full((size, size), -0.35)


_DEFECT_DRAWERS: dict[str, _Defect] = {"scratch": _scratch, "spot": _spot, "crack": _crack}


def _draw_defect(rng: np.random.Generator, image: np.ndarray, ground: np.ndarray, defect: str) -> np.ndarray:
    """Change `image` in place where the defect lies on valid ground; returns that exact mask."""
    size = image.shape[0]
    for _ in range(100):
        mask, shift = _DEFECT_DRAWERS[defect](rng, size, ground)
        mask &= ground
        if mask.sum() >= max(4, size * size // 2000):
            image[mask] += shift[mask][:, None]
            return mask
    raise RuntimeError(f"could not place a {defect} on this image")


def _to_uint8(image: np.ndarray, gain: float) -> np.ndarray:
    return np.clip(np.rint(image * gain * 255.0), 0, 255).astype(np.uint8)


def _random_gain(rng: np.random.Generator) -> float:
    return float(rng.uniform(0.85, 1.15))


def _exact_uint8(base: np.ndarray, defect_image: np.ndarray, mask: np.ndarray, gain: float) -> np.ndarray:
    """Quantise so the defect changes every masked pixel and nothing else (rounding could erase a small change)."""
    clean = _to_uint8(base, gain)
    defective = _to_uint8(defect_image, gain)
    unchanged = mask & np.all(defective == clean, axis=2)
    bump = np.where(clean[unchanged] < 128, 40, -40)
    defective[unchanged] = (clean[unchanged].astype(np.int16) + bump).astype(np.uint8)
    defective[~mask] = clean[~mask]
    return defective


def _save(array: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, compress_level=1)


def make_synthetic_dataset(
    root: Path,
    *,
    kind: str = "texture",
    n_train: int = 20,
    n_test_good: int = 8,
    n_test_defect: int = 8,
    size: int = 128,
    seed: int = 0,
) -> Path:
    """Write an MVTec AD layout under `root` (train/good, test/good, test/{scratch,spot,crack}, and
    ground_truth/<defect>/<stem>_mask.png) with `n_test_defect` images per defect; returns `root`.
    The same arguments always produce the same files.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if size < 32:
        raise ValueError(f"size must be at least 32, got {size}")
    root = Path(root)
    rng = np.random.default_rng(seed)
    render = _texture if kind == "texture" else _washer
    for split, count in (("train", n_train), ("test", n_test_good)):
        for index in range(count):
            image, _ = render(rng, size)
            _save(_to_uint8(image, _random_gain(rng)), root / split / "good" / f"{index:03d}.png")
    for defect in DEFECTS:
        for index in range(n_test_defect):
            base, ground = render(rng, size)
            defective = base.copy()
            mask = _draw_defect(rng, defective, ground, defect)
            _save(_exact_uint8(base, defective, mask, _random_gain(rng)), root / "test" / defect / f"{index:03d}.png")
            _save(mask.astype(np.uint8) * 255, root / "ground_truth" / defect / f"{index:03d}_mask.png")
    return root


def make_small_defect_dataset(
    root: Path,
    *,
    n_train: int = 8,
    n_test_good: int = 6,
    n_test_defect: int = 6,
    size: int = 512,
    defect_pixels: int = 3,
    seed: int = 0,
) -> Path:
    """Large "texture" images whose only defect is a pin hole `defect_pixels` wide (a dark or bright dot): what
    resizing a whole image to a model's input size erases and tiling keeps. MVTec layout as `make_synthetic_dataset`,
    one defect folder `pinhole`; the same arguments always produce the same files."""
    if size < 64 or not 1 <= defect_pixels <= size // 16:
        raise ValueError(f"need size >= 64 and 1 <= defect_pixels <= size / 16, got {size} and {defect_pixels}")
    root = Path(root)
    rng = np.random.default_rng(seed)
    for split, count in (("train", n_train), ("test", n_test_good)):
        for index in range(count):
            image, _ = _texture(rng, size)
            _save(_to_uint8(image, _random_gain(rng)), root / split / "good" / f"{index:03d}.png")
    for index in range(n_test_defect):
        base, _ = _texture(rng, size)
        top, left = rng.integers(defect_pixels, size - 2 * defect_pixels, 2)
        mask = np.zeros((size, size), dtype=bool)
        mask[top : top + defect_pixels, left : left + defect_pixels] = True
        defective = base.copy()
        defective[mask] += rng.choice([-1.0, 1.0]) * 0.4
        _save(_exact_uint8(base, defective, mask, _random_gain(rng)), root / "test" / "pinhole" / f"{index:03d}.png")
        _save(mask.astype(np.uint8) * 255, root / "ground_truth" / "pinhole" / f"{index:03d}_mask.png")
    return root

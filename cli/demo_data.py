"""Synthetic images for `lv demo`: a striped, grainy surface; defects are dark scratches and bright spots.

Drawn here with numpy and PIL (the CLI never imports the service). Trees follow the `folders` layout the SDK uploads:
`normal/`, `anomaly/<class>/` and `masks/<class>/<name>_mask.png`.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

DEFECTS = ("scratch", "spot")


@dataclass(frozen=True)
class DemoImages:
    train: Path
    test: Path
    queries: list[Path]


def _surface(rng: np.random.Generator, size: int) -> np.ndarray:
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    period = rng.uniform(9.0, 11.0)
    stripes = np.sin(2 * np.pi * (x + 0.2 * y) / period + rng.uniform(0, 2 * np.pi))
    gray = 0.55 + 0.1 * stripes + 0.03 * rng.standard_normal((size, size)) + rng.uniform(-0.03, 0.03)
    rgb = gray[..., None] * np.array([0.9, 0.95, 1.0])
    pixels: np.ndarray = np.clip(rgb * 255, 0, 255).astype(np.uint8)
    return pixels


def _defect(rng: np.random.Generator, size: int, kind: str) -> tuple[Image.Image, np.ndarray]:
    """A defect drawn on a fresh surface, and its bool mask (the pixels the defect changed)."""
    mask_image = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(mask_image)
    if kind == "scratch":
        start = rng.uniform(0.15, 0.4, 2) * size
        end = rng.uniform(0.6, 0.85, 2) * size
        draw.line([tuple(start), tuple(end)], fill=255, width=max(2, size // 32))
        color = np.array([25, 25, 30])
    else:
        centre = rng.uniform(0.3, 0.7, 2) * size
        radius = rng.uniform(0.06, 0.1) * size
        draw.ellipse([tuple(centre - radius), tuple(centre + radius)], fill=255)
        color = np.array([250, 235, 120])
    mask = np.asarray(mask_image) > 0
    pixels = _surface(rng, size)
    pixels[mask] = color
    return Image.fromarray(pixels), mask


def _save(image: Image.Image, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def make_demo_images(
    root: Path, *, n_train: int = 24, n_test: int = 10, n_queries: int = 4, size: int = 96, seed: int = 0
) -> DemoImages:
    """train/normal, test/{normal,anomaly/<class>,masks/<class>} and a few query images half of them defective."""
    rng = np.random.default_rng(seed)
    for index in range(n_train):
        _save(Image.fromarray(_surface(rng, size)), root / "train" / "normal" / f"good-{index:03d}.png")
    for index in range(n_test):
        _save(Image.fromarray(_surface(rng, size)), root / "test" / "normal" / f"good-{index:03d}.png")
        kind = DEFECTS[index % len(DEFECTS)]
        image, mask = _defect(rng, size, kind)
        _save(image, root / "test" / "anomaly" / kind / f"{kind}-{index:03d}.png")
        _save(
            Image.fromarray(mask.astype(np.uint8) * 255),
            root / "test" / "masks" / kind / f"{kind}-{index:03d}_mask.png",
        )
    queries = []
    for index in range(n_queries):
        if index % 2:
            image = _defect(rng, size, DEFECTS[index // 2 % len(DEFECTS)])[0]
            queries.append(_save(image, root / "queries" / f"query-{index}-defect.png"))
        else:
            queries.append(_save(Image.fromarray(_surface(rng, size)), root / "queries" / f"query-{index}-good.png"))
    return DemoImages(train=root / "train", test=root / "test", queries=queries)

"""Test data builders shared by engine and service tests: synthetic datasets and small encoded images."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from service.engine.synthetic import make_synthetic_dataset


def synthetic_dataset(
    root: Path,
    *,
    kind: str = "texture",
    n_train: int = 12,
    n_test_good: int = 4,
    n_test_defect: int = 3,
    size: int = 64,
    seed: int = 0,
) -> Path:
    """A small MVTec-layout dataset under root/<kind> (pass pytest's tmp_path); smaller than the engine's default."""
    return make_synthetic_dataset(
        Path(root) / kind,
        kind=kind,
        n_train=n_train,
        n_test_good=n_test_good,
        n_test_defect=n_test_defect,
        size=size,
        seed=seed,
    )


def image_array(size: tuple[int, int] = (96, 96), seed: int = 0, channels: int = 3) -> np.ndarray:
    """Random but smooth uint8 pixels, shape (height, width, channels) for size = (width, height) as in PIL."""
    width, height = size
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = 128 + 60 * np.sin(x / (3 + 4 * rng.random())) * np.cos(y / (3 + 4 * rng.random()))
    pixels = base[..., None] + rng.normal(0, 12, (height, width, channels))
    return np.clip(pixels, 0, 255).astype(np.uint8)


def _encode(pixels: np.ndarray, image_format: str, **options: object) -> bytes:
    image = Image.fromarray(pixels[..., 0] if pixels.shape[2] == 1 else pixels)
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def png_bytes(size: tuple[int, int] = (96, 96), seed: int = 0, mode: str = "RGB") -> bytes:
    """A PNG of the given (width, height); mode "RGB", "L" or "RGBA"."""
    channels = {"RGB": 3, "L": 1, "RGBA": 4}[mode]
    return _encode(image_array(size, seed, channels), "PNG")


def jpeg_bytes(size: tuple[int, int] = (96, 96), seed: int = 0, quality: int = 90) -> bytes:
    """An RGB JPEG of the given (width, height)."""
    return _encode(image_array(size, seed), "JPEG", quality=quality)


def mask_png_bytes(mask: np.ndarray) -> bytes:
    """Bool/0-1 (height, width) mask as a black-and-white PNG (white = defect)."""
    return _encode((np.asarray(mask) != 0).astype(np.uint8)[..., None] * 255, "PNG")

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


CLASS_COLOURS = {"BACKGROUND": "#ffffff", "scratch": "#2ca02c", "blob": "#1f77b4"}
"""A Ground Truth colour map as AWS's segmentation jobs write it: white background, one colour per class."""


def colour_map(colours: dict[str, str] = CLASS_COLOURS) -> dict[str, dict[str, object]]:
    """The `internal-color-map` of a segmentation line for `colours` (class name -> hex colour)."""
    return {
        str(index): {"class-name": name, "hex-color": colour, "confidence": 0.0}
        for index, (name, colour) in enumerate(colours.items())
    }


def _surface(rng: np.random.Generator, size: int) -> np.ndarray:
    y, x = np.mgrid[0:size, 0:size]
    wave = 12 * np.sin(x / rng.uniform(4, 6) + rng.uniform(0, 6)) * np.cos(y / rng.uniform(4, 6))
    return 128 + wave + rng.normal(0, 6, (size, size))


def class_defect_image(kind: str | None, *, seed: int, size: int = 64) -> tuple[bytes, bytes | None]:
    """A grey textured RGB PNG, normal (`kind=None`) or with one defect: a bright thin `scratch` or a dark round
    `blob`; with its colour-coded mask PNG (`CLASS_COLOURS`) for a defect."""
    rng = np.random.default_rng(seed)
    gray = _surface(rng, size)
    y, x = np.mgrid[0:size, 0:size]
    cy, cx = rng.uniform(0.3, 0.7, 2) * size
    if kind == "scratch":
        angle = rng.uniform(0, np.pi)
        along = (x - cx) * np.cos(angle) + (y - cy) * np.sin(angle)
        across = -(x - cx) * np.sin(angle) + (y - cy) * np.cos(angle)
        defect = (np.abs(across) <= 1.0) & (np.abs(along) <= size * 0.3)
        gray[defect] = 245
    elif kind == "blob":
        defect = np.hypot(x - cx, y - cy) <= size * rng.uniform(0.08, 0.11)
        gray[defect] = 25
    elif kind is None:
        defect = None
    else:
        raise ValueError(f"unknown defect kind {kind!r}")
    pixels = np.clip(np.repeat(gray[..., None], 3, axis=2), 0, 255).astype(np.uint8)
    if defect is None:
        return _encode(pixels, "PNG"), None
    mask = np.empty((size, size, 3), dtype=np.uint8)
    mask[:] = _rgb(CLASS_COLOURS["BACKGROUND"])
    mask[defect] = _rgb(CLASS_COLOURS[kind])
    return _encode(pixels, "PNG"), _encode(mask, "PNG")


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)

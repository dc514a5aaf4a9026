"""A model's defect classes and colours, and decoding colour-coded masks into per-pixel class indices (numpy only:
the inferencers read palettes from a saved model's metadata)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

BACKGROUND_NAME = "BACKGROUND"
"""Ground Truth's name for the background entry of a colour map (compared case-insensitively)."""
GENERIC_CLASS = "anomaly"
"""The class name openlv writes for masks uploaded without one; a model whose only class it is has no classes."""
DEFAULT_BACKGROUND = "#FFFFFF"

MaskColors = Sequence[tuple[str, str]]
"""A mask's colour map as (hex colour "#rrggbb", class name) pairs; the colour named BACKGROUND is the background."""


@dataclass(frozen=True)
class DefectClass:
    name: str
    color: str


@dataclass(frozen=True)
class ClassPalette:
    """The classes a model names, in the order of its class head's outputs, and the background colour of its masks
    (the one the training masks used)."""

    classes: tuple[DefectClass, ...]
    background: str = DEFAULT_BACKGROUND

    @property
    def names(self) -> list[str]:
        return [defect.name for defect in self.classes]

    def to_dict(self) -> dict[str, Any]:
        return {
            "background": self.background,
            "classes": [{"name": defect.name, "color": defect.color} for defect in self.classes],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ClassPalette | None:
        if not data:
            return None
        classes = tuple(DefectClass(str(item["name"]), str(item["color"])) for item in data["classes"])
        return cls(classes, str(data.get("background", DEFAULT_BACKGROUND)))


def is_background(name: str) -> bool:
    return name.upper() == BACKGROUND_NAME


def hex_rgb(color: str) -> tuple[int, int, int]:
    """A colour "#rrggbb" as (r, g, b)."""
    value = color.lstrip("#")
    if len(value) != 6:
        raise ValueError(f"expected a colour like '#ff0000', got {color!r}")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def class_indices(rgb: np.ndarray, colors: MaskColors, names: Sequence[str]) -> np.ndarray:
    """int16 (H, W) from an RGB (H, W, 3) mask: k + 1 where the pixel has the colour of `names[k]`, 0 where it is
    not a defect (`defect_pixels`), -1 for a defect of a colour `names` does not list."""
    packed = _packed(rgb)
    indices = np.where(defect_pixels(rgb, colors), -1, 0).astype(np.int16)
    for color, name in colors:
        if not is_background(name) and name in names:
            indices[packed == _pack(color)] = names.index(name) + 1
    return indices


def defect_pixels(rgb: np.ndarray, colors: MaskColors) -> np.ndarray:
    """Bool (H, W): with a background colour in the map, every pixel of another colour (as a mask of any other
    colours was always read); without one, the pixels of the map's class colours."""
    packed = _packed(rgb)
    backgrounds = [_pack(color) for color, name in colors if is_background(name)]
    if backgrounds:
        return ~np.isin(packed, backgrounds)
    return np.isin(packed, [_pack(color) for color, name in colors])


def _pack(color: str) -> int:
    r, g, b = hex_rgb(color)
    return r << 16 | g << 8 | b


def _packed(rgb: np.ndarray) -> np.ndarray:
    pixels = np.asarray(rgb, dtype=np.int32)
    return pixels[..., 0] << 16 | pixels[..., 1] << 8 | pixels[..., 2]

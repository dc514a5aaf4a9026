"""Tiling settings: what a user asks for (`tile_size`, `tile_overlap` among any model's hyperparameters) and what a
trained model records (`TileLayout`, with the tile size resolved in pixels).

Owns the key names and the default; never touches images or tensors.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from service.engine.errors import EngineError

TILING_KEYS = ("tile_size", "tile_overlap", "tile_batch_size")
# An image whose long side is at most this many times the model's input size is not tiled by "auto".
AUTO_MIN_UPSCALE = 1.5
# "auto" never cuts more tiles than this along the long side: a 12-megapixel image at a 256-px input gets 256-px tiles.
AUTO_MAX_TILES_PER_SIDE = 16


class TilingSettings(BaseModel):
    """`tile_size`: tile side in pixels of the original image, `"auto"` (from the image and input sizes, see
    `default_tile_size`) or 0 (no tiling, the default). `tile_overlap`: share of a tile shared with its neighbour.
    `tile_batch_size`: tiles run through the model at once (bounds inference memory)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tile_size: int | Literal["auto"] = Field(0, description='pixels, "auto" or 0 (off)')
    tile_overlap: float = Field(0.25, ge=0.0, lt=1.0)
    tile_batch_size: int = Field(16, ge=1, le=256)

    @property
    def enabled(self) -> bool:
        return self.tile_size != 0


@dataclass(frozen=True)
class TileLayout:
    """A trained model's tiling, as saved in its metadata: tile side in original pixels, overlap, batch size."""

    tile_size: int
    overlap: float
    batch_size: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> TileLayout | None:
        if not data:
            return None
        return cls(int(data["tile_size"]), float(data["overlap"]), int(data["batch_size"]))


def _parse_tile_size(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    return value


def split_tiling(values: dict[str, Any] | None) -> tuple[TilingSettings, dict[str, Any]]:
    """Take the tiling keys out of a model's raw hyperparameters (strings from the API allowed): the tiling settings
    and the remaining model hyperparameters. Raises EngineError for bad tiling values."""
    rest = dict(values or {})
    raw = {key: rest.pop(key) for key in TILING_KEYS if key in rest}
    if "tile_size" in raw:
        raw["tile_size"] = _parse_tile_size(raw["tile_size"])
    try:
        settings = TilingSettings(**raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise EngineError(f"invalid tiling settings: {problems}") from None
    if isinstance(settings.tile_size, int) and 0 < settings.tile_size < 16:
        raise EngineError(
            f"invalid tiling settings: tile_size must be 0, 'auto' or at least 16, got {settings.tile_size}"
        )
    return settings, rest


def default_tile_size(image_height: int, image_width: int, input_size: int) -> int:
    """The "auto" tile side: 0 (no tiling) when the image is close to the model's input size; otherwise the input
    size itself (tiles seen at their native resolution, so few-pixel defects survive), grown where needed so that no
    more than AUTO_MAX_TILES_PER_SIDE tiles run along the long side."""
    long_side = max(image_height, image_width)
    if long_side <= AUTO_MIN_UPSCALE * input_size:
        return 0
    return max(input_size, math.ceil(long_side / AUTO_MAX_TILES_PER_SIDE))


def resolve_layout(settings: TilingSettings, image_size: tuple[int, int], input_size: int) -> TileLayout | None:
    """The layout a training run uses, `image_size` (height, width) being that of the first training image; None when
    tiling is off or "auto" decided against it."""
    if not settings.enabled:
        return None
    size = settings.tile_size
    if size == "auto":
        size = default_tile_size(image_size[0], image_size[1], input_size)
        if size == 0:
            return None
    return TileLayout(tile_size=int(size), overlap=settings.tile_overlap, batch_size=settings.tile_batch_size)

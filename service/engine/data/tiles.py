"""Training on tiles: every training image cut into the tiles of its `TileGrid`, each tile resized to the model's
input size exactly as whole images are.

Tiles of one image are served together (images in a seeded random order, tiles shuffled within each image), so an
image is decoded once per epoch and only one decoded image is held at a time.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset, Sampler

from service.engine.data.image_io import load_rgb, rgb_to_tensor
from service.engine.data.records import ImageRecord
from service.engine.tiling import TileLayout, tile_grid

_SWAPPING_ORIENTATIONS = {5, 6, 7, 8}


def image_shape(source: Path | bytes) -> tuple[int, int]:
    """(height, width) as `load_rgb` will decode it (EXIF rotation applied), reading only the header."""
    opened = Image.open(io.BytesIO(bytes(source))) if isinstance(source, (bytes, bytearray)) else Image.open(source)
    with opened:
        width, height = opened.size
        if opened.getexif().get(0x0112) in _SWAPPING_ORIENTATIONS:
            width, height = height, width
    return height, width


class TiledTrainDataset(Dataset[dict[str, Any]]):
    """Yields `{"image": float32 (3, S, S), "label": 0, "mask": zeros (S, S), "index": tile index}` per tile;
    `groups[i]` lists the tile indices of training image i. Resized tiles are kept up to `cache_bytes`."""

    def __init__(
        self, records: Sequence[ImageRecord], layout: TileLayout, image_size: int, cache_bytes: int = 0
    ) -> None:
        self.records = list(records)
        self.image_size = image_size
        self.cache_bytes = cache_bytes
        self.tiles: list[tuple[int, int, int, int, int]] = []
        self.groups: list[list[int]] = []
        for number, record in enumerate(self.records):
            grid = tile_grid(*image_shape(record.image), layout.tile_size, layout.overlap)
            first = len(self.tiles)
            self.tiles += [(number, top, left, grid.tile_height, grid.tile_width) for top, left in grid.origins]
            self.groups.append(list(range(first, len(self.tiles))))
        self._decoded: tuple[int, Image.Image] | None = None
        self._cache: dict[int, torch.Tensor] = {}
        self._cached_bytes = 0

    def __len__(self) -> int:
        return len(self.tiles)

    def _image(self, number: int) -> Image.Image:
        if self._decoded is None or self._decoded[0] != number:
            self._decoded = (number, load_rgb(self.records[number].image))
        return self._decoded[1]

    def _tile(self, index: int) -> torch.Tensor:
        cached = self._cache.get(index)
        if cached is not None:
            return cached
        number, top, left, height, width = self.tiles[index]
        crop = self._image(number).crop((left, top, left + width, top + height))
        tile = rgb_to_tensor(crop, self.image_size)
        size = tile.numel() * tile.element_size()
        if self._cached_bytes + size <= self.cache_bytes:
            self._cache[index] = tile
            self._cached_bytes += size
        return tile

    def __getitem__(self, index: int) -> dict[str, Any]:
        size = self.image_size
        return {
            "image": self._tile(index),
            "label": torch.tensor(0, dtype=torch.int64),
            "mask": torch.zeros((size, size), dtype=torch.float32),
            "index": index,
        }


class GroupedShuffleSampler(Sampler[int]):
    """Groups in a random order, members of each group shuffled, groups never interleaved; seeded, a new order per
    epoch."""

    def __init__(self, groups: Sequence[Sequence[int]], seed: int) -> None:
        self.groups = [list(group) for group in groups]
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return sum(len(group) for group in self.groups)

    def __iter__(self) -> Iterator[int]:
        for group_index in torch.randperm(len(self.groups), generator=self.generator).tolist():
            group = self.groups[group_index]
            for member in torch.randperm(len(group), generator=self.generator).tolist():
                yield group[member]


def tiled_train_loader(
    records: Sequence[ImageRecord],
    layout: TileLayout,
    *,
    image_size: int,
    batch_size: int,
    seed: int,
    cache_bytes: int = 0,
) -> DataLoader[dict[str, Any]]:
    dataset = TiledTrainDataset(records, layout, image_size, cache_bytes)
    return DataLoader(dataset, batch_size=batch_size, sampler=GroupedShuffleSampler(dataset.groups, seed))

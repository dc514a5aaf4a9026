"""Torch dataset and Lightning data module over `ImageRecord`s."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import lightning
import torch
from torch.utils.data import DataLoader, Dataset

from service.engine.data.image_io import load_mask, load_rgb, mask_to_tensor, rgb_to_tensor
from service.engine.data.records import ImageRecord


class AnomalyDataset(Dataset[dict[str, Any]]):
    """Yields `{"image": float32 (3, S, S) in [0, 1], "label": int64 scalar, "mask": float32 (S, S) in {0, 1},
    "index": int}`. Images are not ImageNet-normalised: the models normalise inside, like the exported graph.

    With `train=True` masks are not decoded (training only needs the images) and come back as zeros.
    `cache_bytes` keeps decoded, resized images in memory up to that many bytes (first come, first kept), for models
    that read their training images many times: decoding and resizing can cost a third of a small network's step.
    """

    def __init__(
        self, records: Sequence[ImageRecord], image_size: int, train: bool = False, cache_bytes: int = 0
    ) -> None:
        if image_size <= 0:
            raise ValueError(f"image_size must be positive, got {image_size}")
        self.records = list(records)
        self.image_size = image_size
        self.train = train
        self.cache_bytes = cache_bytes
        self._cache: dict[int, torch.Tensor] = {}
        self._cached_bytes = 0

    def _image(self, index: int) -> torch.Tensor:
        cached = self._cache.get(index)
        if cached is not None:
            return cached
        image = rgb_to_tensor(load_rgb(self.records[index].image), self.image_size)
        size = image.numel() * image.element_size()
        if self._cached_bytes + size <= self.cache_bytes:
            self._cache[index] = image
            self._cached_bytes += size
        return image

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> dict[str, Any]:
        record = self.records[index]
        size = self.image_size
        image = self._image(index)
        if record.mask is not None and not self.train:
            mask = mask_to_tensor(load_mask(record.mask, record.mask_colors), size)
        else:
            mask = torch.zeros((size, size), dtype=torch.float32)
        return {"image": image, "label": torch.tensor(record.label, dtype=torch.int64), "mask": mask, "index": index}


class AnomalyDataModule(lightning.LightningDataModule):
    """Train loader shuffles with a generator seeded by `seed` (same order on every run); val and test share records.
    `train_cache_bytes` bounds the memory kept for decoded training images (see `AnomalyDataset`)."""

    def __init__(
        self,
        train_records: Sequence[ImageRecord],
        val_records: Sequence[ImageRecord],
        *,
        image_size: int = 256,
        batch_size: int = 16,
        num_workers: int = 0,
        seed: int = 0,
        train_cache_bytes: int = 0,
    ) -> None:
        super().__init__()
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.train_dataset = AnomalyDataset(train_records, image_size, train=True, cache_bytes=train_cache_bytes)
        self.val_dataset = AnomalyDataset(val_records, image_size, train=False)
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.seed = seed

    def _loader(self, dataset: AnomalyDataset, shuffle: bool) -> DataLoader[dict[str, Any]]:
        generator = torch.Generator().manual_seed(self.seed) if shuffle else None
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            shuffle=shuffle,
            generator=generator,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            drop_last=False,
        )

    def train_dataloader(self) -> DataLoader[dict[str, Any]]:
        return self._loader(self.train_dataset, shuffle=True)

    def val_dataloader(self) -> DataLoader[dict[str, Any]]:
        return self._loader(self.val_dataset, shuffle=False)

    def test_dataloader(self) -> DataLoader[dict[str, Any]]:
        return self.val_dataloader()

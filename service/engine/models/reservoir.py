"""A uniform sample of bounded size from a stream of rows (reservoir sampling, Vitter's algorithm R).

PatchCore gathers one feature row per patch of every training image; with tiling, a few hundred 12-megapixel images
give tens of millions of rows, more than memory holds and more than the coreset selection can scan. The reservoir
keeps at most `capacity` rows, each row of the stream equally likely to be among them whatever the stream's length,
so memory stays bounded while the coreset still sees every region of the data in proportion.
"""

import torch
from torch import Tensor


class RowReservoir:
    """Rows of a stream of (n, d) tensors; `rows()` returns all of them while fewer than `capacity` were seen."""

    def __init__(self, capacity: int, seed: int = 0) -> None:
        if capacity < 1:
            raise ValueError(f"reservoir capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self.seen = 0
        self._generator = torch.Generator().manual_seed(seed)
        self._filling: list[Tensor] = []
        self._pool: Tensor | None = None

    def add(self, batch: Tensor) -> None:
        """Rows of `batch` (..., d): kept while the reservoir fills, sampled once it is full."""
        rows = batch.reshape(-1, batch.shape[-1]).detach().cpu()
        if self._pool is None:
            free = min(self.capacity - self.seen, rows.shape[0])
            self._filling.append(rows[:free].clone())
            self.seen += free
            rows = rows[free:]
            if self.seen == self.capacity:
                self._pool, self._filling = torch.cat(self._filling), []
        self._replace(rows)

    def _replace(self, rows: Tensor) -> None:
        """Row i of the stream (0-based) replaces a uniformly chosen slot with probability capacity / (i + 1)."""
        if rows.shape[0] == 0:
            return
        positions = torch.arange(self.seen, self.seen + rows.shape[0], dtype=torch.float64)
        slots = (torch.rand(rows.shape[0], generator=self._generator, dtype=torch.float64) * (positions + 1)).long()
        self.seen += rows.shape[0]
        kept = torch.nonzero(slots < self.capacity).squeeze(1)
        if kept.numel() == 0:
            return
        # Where several rows draw the same slot, the stream's order decides: the last one stays.
        kept_slots = slots[kept]
        last = torch.zeros(self.capacity, dtype=torch.long).scatter_reduce(0, kept_slots, kept, reduce="amax")
        winners = torch.unique(kept_slots)
        assert self._pool is not None
        self._pool[winners] = rows[last[winners]]

    def rows(self) -> Tensor:
        if self._pool is not None:
            return self._pool
        return torch.cat(self._filling) if self._filling else torch.empty(0, 0)

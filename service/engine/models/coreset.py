"""Greedy k-center coreset selection (PatchCore, Roth et al. 2022, section 3.2; Sener & Savarese 2018).

The greedy rule picks, k times, the embedding farthest from everything picked so far. Distances are computed in a
sparse random projection of the embeddings (Johnson-Lindenstrauss), as in the paper, to make each step cheaper.

Done naively, each of the k steps scans all N embeddings: N*k*d work, minutes for a few hundred images (anomalib
users report coreset runs that seem to hang). This implementation makes exactly the same picks with far less work,
using lazy evaluation: it keeps, for every embedding, an upper bound on its distance to the selection (its exact
distance as of its last refresh, since distances only shrink), and refreshes only the `pool_size` embeddings with the
largest bounds, against just the centres picked since their own last refresh. The farthest refreshed embedding is the
greedy pick while its distance is at least the largest bound outside the pool; picks continue inside the pool until
that no longer holds. Embeddings in well-covered regions drop out of contention and are never compared with later
centres. Memory is O(N*d) for the projected embeddings plus bounded chunks, never O(N^2).
"""

import math

import torch
from torch import Tensor

_CHUNK_ELEMENTS = 1 << 22


def sparse_random_projection(in_features: int, out_features: int, generator: torch.Generator) -> Tensor:
    """A very sparse random projection matrix (Li, Hastie & Church 2006), shape (in_features, out_features).

    Each entry is +-sqrt(s / out_features) with probability 1/(2s) each and 0 otherwise, with s = sqrt(in_features):
    squared distances are preserved in expectation.
    """
    density = 1.0 / math.sqrt(in_features)
    uniform = torch.rand(in_features, out_features, generator=generator)
    signs = torch.where(torch.rand(in_features, out_features, generator=generator) < 0.5, -1.0, 1.0)
    scale = math.sqrt(1.0 / (density * out_features))
    return torch.where(uniform < density, signs * scale, torch.zeros(()))


def greedy_coreset_indices(
    embeddings: Tensor, count: int, *, projection_dim: int = 128, seed: int = 0, pool_size: int = 4096
) -> Tensor:
    """Indices (count,) of the greedy k-center selection of `count` rows of `embeddings` (N, D), starting from a
    seeded random row. Rows are projected to `projection_dim` dimensions first when D is larger."""
    total = embeddings.shape[0]
    if not 0 < count <= total:
        raise ValueError(f"cannot select {count} of {total} embeddings")
    generator = torch.Generator().manual_seed(seed)
    points = embeddings.float()
    if points.shape[1] > projection_dim:
        points = points @ sparse_random_projection(points.shape[1], projection_dim, generator)
    first = int(torch.randint(total, (1,), generator=generator))
    selection = _LazySelection(points, first, count)
    pool_size = min(pool_size, total)
    while len(selection.centres) < count:
        selection.round(pool_size)
    return torch.tensor(selection.centres)


class _LazySelection:
    """State of the lazy greedy traversal: picked centres, distance upper bounds and when each bound was computed."""

    def __init__(self, points: Tensor, first: int, count: int) -> None:
        self.points = points
        self.squared_norms = points.square().sum(1)
        self.count = count
        self.centres: list[int] = []
        self.centre_points = torch.empty(count, points.shape[1])
        self.centre_norms = torch.empty(count)
        self._add_centre(first)
        self.bounds = self._distances(torch.arange(points.shape[0]), 0)
        self.bounds[first] = -math.inf
        self.refreshed_at = torch.ones(points.shape[0], dtype=torch.long)

    def _add_centre(self, index: int) -> None:
        position = len(self.centres)
        self.centres.append(index)
        self.centre_points[position] = self.points[index]
        self.centre_norms[position] = self.squared_norms[index]

    def round(self, pool_size: int) -> None:
        """Refresh the pool of largest bounds, then pick from it while the picks provably match global greedy."""
        bounds, pool = torch.topk(self.bounds, pool_size)
        outside_bound = float(bounds[-1]) if pool_size < self.bounds.shape[0] else -math.inf
        distances = self._refresh(pool)
        pool_points, pool_norms = self.points[pool], self.squared_norms[pool]
        while len(self.centres) < self.count:
            best = int(torch.argmax(distances))
            if distances[best] < outside_bound:
                break
            index = int(pool[best])
            self._add_centre(index)
            to_pick = (pool_norms - 2 * (pool_points @ self.points[index]) + self.squared_norms[index]).clamp_min(0)
            torch.minimum(distances, to_pick, out=distances)
            distances[best] = -math.inf
        self.bounds[pool] = distances
        self.refreshed_at[pool] = len(self.centres)

    def _refresh(self, pool: Tensor) -> Tensor:
        """Exact distances of the pool to the selection: each row is compared with the centres newer than its bound,
        in blocks of rows sorted by staleness so fresh rows are not compared with old centres again."""
        order = torch.argsort(self.refreshed_at[pool])
        pool = pool[order]
        distances = self.bounds[pool].clone()
        block = 1024
        for start in range(0, pool.shape[0], block):
            rows = pool[start : start + block]
            oldest = int(self.refreshed_at[rows[0]])
            if oldest < len(self.centres):
                fresh = self._distances(rows, oldest)
                torch.minimum(distances[start : start + block], fresh, out=distances[start : start + block])
        unsorted = torch.empty_like(distances)
        unsorted[order] = distances
        return unsorted

    def _distances(self, rows: Tensor, first_centre: int) -> Tensor:
        """min of squared distances to the centres picked since `first_centre`, for each of `rows`, in chunks."""
        centre_points = self.centre_points[first_centre : len(self.centres)]
        centre_norms = self.centre_norms[first_centre : len(self.centres)]
        result = torch.empty(rows.shape[0])
        step = max(1, _CHUNK_ELEMENTS // centre_points.shape[0])
        for start in range(0, rows.shape[0], step):
            chunk = rows[start : start + step]
            to_centres = self.squared_norms[chunk, None] - 2 * (self.points[chunk] @ centre_points.T) + centre_norms
            result[start : start + step] = to_centres.amin(1).clamp_min(0)
        return result

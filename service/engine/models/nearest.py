"""Nearest-neighbour search against a memory bank, written so that it exports to ONNX as one matrix product."""

import torch
from torch import Tensor

_CHUNK_ELEMENTS = 1 << 24


def squared_distances(queries: Tensor, keys: Tensor) -> Tensor:
    """(Q, K) squared Euclidean distances as one matrix product (a `cdist` that exports to ONNX)."""
    distances = queries.square().sum(-1, keepdim=True) - 2 * (queries @ keys.T) + keys.square().sum(-1)
    return distances.clamp_min(0)


def nearest(queries: Tensor, bank: Tensor) -> tuple[Tensor, Tensor]:
    """Squared distance to, and index of, each query's (Q, D) nearest row of `bank` (K, D).

    Exported graphs use one matrix product; eager runs process queries in chunks so a large validation batch never
    materialises a (queries x bank) matrix of more than `_CHUNK_ELEMENTS` entries.
    """
    if torch.onnx.is_in_onnx_export() or torch.compiler.is_compiling():
        result = squared_distances(queries, bank).min(dim=1)
        return result.values, result.indices
    rows = max(1, _CHUNK_ELEMENTS // bank.shape[0])
    parts = [squared_distances(chunk, bank).min(dim=1) for chunk in queries.split(rows)]
    return torch.cat([part.values for part in parts]), torch.cat([part.indices for part in parts])

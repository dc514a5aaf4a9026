"""Nearest-neighbour search against a memory bank, written so that it exports to ONNX as one matrix product."""

from collections.abc import Mapping

import torch
from torch import Tensor, nn

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


def adopt_saved_bank_shape(module: nn.Module, state_dict: Mapping[str, Tensor], key: str, name: str) -> bool:
    """Give `module`'s bank buffer `name` the shape saved under `key`, so a fitted bank loads into a freshly built
    (empty) module. Call from `_load_from_state_dict` before loading; returns whether the checkpoint has the bank."""
    saved = state_dict.get(key)
    if saved is None:
        return False
    setattr(module, name, torch.empty_like(saved, device=getattr(module, name).device))
    return True

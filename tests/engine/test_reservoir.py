"""The reservoir behind PatchCore's bounded training memory: all rows while it fills, a uniform sample after."""

import pytest
import torch

from service.engine.models.reservoir import RowReservoir


def stream(reservoir: RowReservoir, total: int, batch: int) -> None:
    for start in range(0, total, batch):
        indices = torch.arange(start, min(start + batch, total), dtype=torch.float32)
        reservoir.add(torch.stack([indices, -indices], dim=1))


def test_keeps_every_row_in_order_until_full() -> None:
    reservoir = RowReservoir(capacity=100)
    stream(reservoir, total=70, batch=16)
    assert reservoir.seen == 70
    assert torch.equal(reservoir.rows()[:, 0], torch.arange(70, dtype=torch.float32))


@pytest.mark.parametrize("batch", [1, 37, 5000])
def test_a_full_reservoir_is_a_uniform_sample_of_the_whole_stream(batch: int) -> None:
    reservoir = RowReservoir(capacity=2000, seed=1)
    stream(reservoir, total=20000, batch=batch)
    rows = reservoir.rows()
    assert rows.shape == (2000, 2) and reservoir.seen == 20000
    assert torch.equal(rows[:, 1], -rows[:, 0]), "rows stay whole"
    assert rows[:, 0].unique().numel() == 2000, "no row is kept twice"
    counts = torch.histc(rows[:, 0], bins=10, min=0, max=20000)
    expected = 200.0
    chi_square = float(((counts - expected).square() / expected).sum())
    assert chi_square < 27.9, f"kept rows are not spread over the stream: {counts.tolist()}"  # p = 0.001, 9 dof


def test_is_reproducible_for_a_seed() -> None:
    first, second = RowReservoir(capacity=50, seed=7), RowReservoir(capacity=50, seed=7)
    stream(first, total=1000, batch=64)
    stream(second, total=1000, batch=64)
    assert torch.equal(first.rows(), second.rows())


def test_refuses_a_capacity_below_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RowReservoir(capacity=0)

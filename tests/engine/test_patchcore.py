"""PatchCore: exact greedy coreset in bounded memory, patch scores that find a bright defect, state-dict round trip."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from service.engine.models import coreset
from service.engine.models.nearest import squared_distances
from service.engine.models.patchcore import PatchcoreHyperparameters, PatchcoreLightning, PatchcoreModel
from service.engine.models.patchcore.torch_model import adaptive_average_matrix
from service.engine.registry import get_model
from tests.engine.trainers import cpu_trainer

SIZE = 64


def normal_images(count: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return 0.5 + 0.03 * torch.rand(count, 3, SIZE, SIZE, generator=generator)


def with_bright_patch(images: torch.Tensor, top: int = 36, left: int = 12) -> torch.Tensor:
    defective = images.clone()
    defective[:, :, top : top + 14, left : left + 14] = 1.0
    return defective


def naive_greedy(points: torch.Tensor, count: int, first: int) -> list[int]:
    picks, distances = [first], (points - points[first]).square().sum(1)
    while len(picks) < count:
        distances[picks] = -1
        picks.append(int(distances.argmax()))
        distances = torch.minimum(distances, (points - points[picks[-1]]).square().sum(1))
    return picks


def fitted(hyperparameters: PatchcoreHyperparameters, images: torch.Tensor) -> PatchcoreLightning:
    module = PatchcoreLightning(hyperparameters)
    module.on_train_epoch_start()
    for index, batch in enumerate(images.split(4)):
        module.training_step({"image": batch}, index)
    module.on_train_epoch_end()
    return module.eval()


def test_coreset_matches_naive_greedy_k_center_with_small_pools_and_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(coreset, "_CHUNK_ELEMENTS", 500)
    points = torch.randn(1500, 24, generator=torch.Generator().manual_seed(0))
    picks = coreset.greedy_coreset_indices(points, 120, seed=4, pool_size=64)
    first = int(torch.randint(1500, (1,), generator=torch.Generator().manual_seed(4)))
    assert picks.tolist() == naive_greedy(points, 120, first)


def test_coreset_picks_k_distinct_points_covering_every_cluster() -> None:
    generator = torch.Generator().manual_seed(1)
    centres = 20 * torch.randn(12, 256, generator=generator)
    points = centres.repeat_interleave(400, 0) + torch.randn(4800, 256, generator=generator)
    picks = coreset.greedy_coreset_indices(points, 48, projection_dim=32, seed=0, pool_size=256)
    assert picks.shape == (48,) and len(set(picks.tolist())) == 48
    assert set((picks // 400).tolist()) == set(range(12))


def test_sparse_random_projection_is_sparse_and_roughly_isometric() -> None:
    projection = coreset.sparse_random_projection(400, 128, torch.Generator().manual_seed(0))
    assert projection.shape == (400, 128)
    assert 0.02 < (projection != 0).float().mean() < 0.08
    points = torch.randn(50, 400, generator=torch.Generator().manual_seed(1))
    ratio = torch.pdist(points @ projection) / torch.pdist(points)
    assert 0.8 < float(ratio.median()) < 1.2


def test_channel_pooling_matrix_equals_adaptive_average_pooling() -> None:
    features = torch.randn(5, 384)
    pooled = F.adaptive_avg_pool1d(features.unsqueeze(1), 100).squeeze(1)
    assert torch.allclose(features @ adaptive_average_matrix(384, 100), pooled, atol=1e-6)
    queries, keys = torch.randn(7, 16), torch.randn(9, 16)
    assert torch.allclose(squared_distances(queries, keys), torch.cdist(queries, keys).square(), atol=1e-4)


def test_bright_patch_scores_higher_and_the_map_peaks_on_it() -> None:
    module = fitted(PatchcoreHyperparameters(weights="random", image_size=SIZE, coreset_ratio=0.25), normal_images(8))
    bank = module.model.memory_bank
    assert bank.shape == (round(0.25 * 8 * 8 * 8), 128)
    normal, defective = normal_images(2, seed=5), with_bright_patch(normal_images(2, seed=5))
    with torch.no_grad():
        good, bad = module(normal), module(defective)
    assert bad.anomaly_map.shape == (2, SIZE, SIZE) and bad.pred_score.shape == (2,)
    assert torch.all(bad.pred_score > 2 * good.pred_score.max())
    for anomaly_map in bad.anomaly_map:
        row, column = divmod(int(anomaly_map.argmax()), SIZE)
        assert 36 - 4 <= row < 50 + 4 and 12 - 4 <= column < 26 + 4


def test_fit_is_deterministic_for_a_seed_and_the_state_dict_round_trips() -> None:
    hyperparameters = PatchcoreHyperparameters(weights="random", image_size=SIZE, seed=3, num_neighbors=3)
    first, second = fitted(hyperparameters, normal_images(6)), fitted(hyperparameters, normal_images(6))
    assert torch.equal(first.model.memory_bank, second.model.memory_bank)
    fresh = PatchcoreModel(weights="random", seed=42, num_neighbors=3).eval()
    assert fresh.memory_bank.shape[0] == 0
    fresh.load_state_dict(first.model.state_dict(), strict=True)
    images = with_bright_patch(normal_images(2, seed=9))
    with torch.no_grad():
        expected, actual = first.model(images), fresh(images)
    assert torch.allclose(actual.pred_score, expected.pred_score)
    assert torch.allclose(actual.anomaly_map, expected.anomaly_map)


def test_image_score_is_the_reweighted_maximum_patch_distance() -> None:
    module = fitted(PatchcoreHyperparameters(weights="random", image_size=SIZE, coreset_ratio=0.5), normal_images(4))
    model = module.model
    image = with_bright_patch(normal_images(1, seed=2))
    with torch.no_grad():
        patches = model.embed(image).reshape(-1, model.embedding_dim)
        distances = torch.cdist(patches, model.memory_bank)
        score = model(image).pred_score
    worst = int(distances.min(1).values.argmax())
    nearest = int(distances[worst].argmin())
    neighbours = torch.cdist(model.memory_bank[nearest : nearest + 1], model.memory_bank)[0].topk(9, largest=False)
    weight = 1 - torch.softmax(distances[worst, neighbours.indices], 0)[0]
    assert math.isclose(float(score), float(weight * distances[worst].min()), rel_tol=1e-3)


def test_registry_builds_patchcore_and_a_lightning_trainer_fits_it() -> None:
    module = get_model("patchcore", weights="random", image_size=SIZE, coreset_ratio=0.1)
    assert isinstance(module, PatchcoreLightning)
    batches = [
        {"image": image, "label": 0, "mask": torch.zeros(SIZE, SIZE), "index": i}
        for i, image in enumerate(normal_images(6))
    ]
    trainer = cpu_trainer(PatchcoreLightning)
    trainer.fit(module, DataLoader(batches, batch_size=3), DataLoader(batches, batch_size=3))
    assert module.model.memory_bank.shape == (round(0.1 * 6 * 64), 128)
    assert len(module.validation_outputs) == 2
    with pytest.raises(ValueError):
        PatchcoreHyperparameters(layers=("layer2", "layer9"))


def test_memory_bank_is_capped_whatever_the_coreset_ratio() -> None:
    module = PatchcoreLightning(
        PatchcoreHyperparameters(weights="random", image_size=SIZE, coreset_ratio=0.5, max_memory_bank=40)
    )
    embeddings = torch.randn(400, 16)
    assert module.select_memory_bank(embeddings).shape == (40, 16)
    uncapped = PatchcoreLightning(PatchcoreHyperparameters(weights="random", image_size=SIZE, coreset_ratio=0.5))
    assert uncapped.select_memory_bank(embeddings).shape == (200, 16)


def test_training_memory_is_bounded_by_the_candidate_reservoir_and_the_defect_is_still_found() -> None:
    """8 images of 64 patches each pass through a reservoir of 96: the coreset is sized from all 512 patches seen."""
    hyperparameters = PatchcoreHyperparameters(
        weights="random", image_size=SIZE, coreset_ratio=0.125, max_candidate_patches=96
    )
    module = fitted(hyperparameters, normal_images(8))
    assert module.model.memory_bank.shape == (round(0.125 * 8 * 64), 128)
    normal, defective = normal_images(2, seed=5), with_bright_patch(normal_images(2, seed=5))
    with torch.no_grad():
        assert torch.all(module(defective).pred_score > 2 * module(normal).pred_score.max())

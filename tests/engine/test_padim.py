"""PaDiM: streaming Gaussians equal batch statistics, a bright defect is found, state-dict round trip."""

import torch
from torch.utils.data import DataLoader

from service.engine.models.padim import PadimHyperparameters, PadimLightning, PadimModel
from service.engine.models.padim.gaussian import COVARIANCE_REGULARISATION, StreamingGaussians
from service.engine.models.padim.torch_model import first_stage_grid
from service.engine.registry import get_model
from tests.engine.trainers import cpu_trainer

SIZE = 64


def normal_images(count: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return 0.5 + 0.03 * torch.rand(count, 3, SIZE, SIZE, generator=generator)


def fitted(hyperparameters: PadimHyperparameters, images: torch.Tensor) -> PadimLightning:
    module = PadimLightning(hyperparameters)
    module.on_train_epoch_start()
    for index, batch in enumerate(images.split(5)):
        module.training_step({"image": batch}, index)
    module.on_train_epoch_end()
    return module.eval()


def test_streaming_gaussians_equal_whole_set_statistics() -> None:
    embeddings = 3 * torch.randn(23, 6, 5, generator=torch.Generator().manual_seed(0)) + 2
    gaussians = StreamingGaussians()
    for batch in embeddings.split(4):
        gaussians.update(batch)
    mean, inverse = gaussians.finish()
    covariance = torch.stack([torch.cov(embeddings[:, p].T) for p in range(6)])
    assert torch.allclose(mean, embeddings.mean(0), atol=1e-5)
    expected = torch.linalg.inv(covariance + COVARIANCE_REGULARISATION * torch.eye(5))
    assert torch.allclose(inverse, expected, atol=1e-4)


def test_embedding_shapes_and_seeded_channel_selection() -> None:
    model = PadimModel(weights="random", image_size=SIZE, seed=1)
    assert model.feature_dim == 100 and first_stage_grid(SIZE) == 16
    assert model.embed(normal_images(2)).shape == (2, 16 * 16, 100)
    assert torch.equal(model.feature_index, PadimModel(weights="random", image_size=SIZE, seed=1).feature_index)
    assert not torch.equal(model.feature_index, PadimModel(weights="random", image_size=SIZE, seed=2).feature_index)
    assert model.inverse_covariance.shape == (256, 100, 100)


def test_bright_patch_scores_higher_and_the_map_peaks_on_it() -> None:
    module = fitted(PadimHyperparameters(weights="random", image_size=SIZE), normal_images(20))
    normal = normal_images(2, seed=7)
    defective = normal.clone()
    defective[:, :, 8:22, 40:54] = 1.0
    with torch.no_grad():
        good, bad = module(normal), module(defective)
    assert bad.anomaly_map.shape == (2, SIZE, SIZE)
    assert torch.allclose(bad.pred_score, bad.anomaly_map.flatten(1).amax(1))
    assert torch.all(bad.pred_score > 2 * good.pred_score.max())
    for anomaly_map in bad.anomaly_map:
        row, column = divmod(int(anomaly_map.argmax()), SIZE)
        assert 8 - 4 <= row < 22 + 4 and 40 - 4 <= column < 54 + 4


def test_fit_is_deterministic_and_the_state_dict_round_trips() -> None:
    hyperparameters = PadimHyperparameters(weights="random", image_size=SIZE, seed=4, feature_dim=40)
    first, second = fitted(hyperparameters, normal_images(10)), fitted(hyperparameters, normal_images(10))
    assert torch.equal(first.model.inverse_covariance, second.model.inverse_covariance)
    fresh = PadimModel(weights="random", image_size=SIZE, feature_dim=40, seed=0).eval()
    fresh.load_state_dict(first.model.state_dict(), strict=True)
    images = normal_images(2, seed=3)
    with torch.no_grad():
        assert torch.allclose(fresh(images).anomaly_map, first.model(images).anomaly_map)


def test_registry_builds_padim_and_a_lightning_trainer_fits_it() -> None:
    module = get_model("padim", weights="random", image_size=SIZE, feature_dim=30)
    assert isinstance(module, PadimLightning)
    batches = [
        {"image": image, "label": 0, "mask": torch.zeros(SIZE, SIZE), "index": i}
        for i, image in enumerate(normal_images(6))
    ]
    trainer = cpu_trainer(PadimLightning)
    trainer.fit(module, DataLoader(batches, batch_size=3), DataLoader(batches, batch_size=3))
    assert module.model.inverse_covariance.abs().sum() > 0
    assert len(module.validation_outputs) == 2

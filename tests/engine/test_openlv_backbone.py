"""openlv's shipped backbone: its file matches its SHA-256, loads strictly, and PatchCore, PaDiM and STFPM train on it."""

from pathlib import Path

import pytest
import torch

from service.engine.backbones import OPENLV_ARCHITECTURE, build_backbone, build_feature_extractor, weights
from service.engine.backbones.resnet import ARCHITECTURES
from service.engine.errors import WeightsUnavailableError
from service.engine.registry import parse_hyperparameters
from service.engine.training import fit
from tests.engine.conftest import TinyData, tiny_hyperparameters


def test_shipped_file_matches_its_sha256_and_is_small() -> None:
    path = weights.openlv_weights_path()
    assert weights.sha256_of(path) == weights.OPENLV_SHA256
    assert weights.OPENLV_SHA256.startswith(weights.OPENLV_CHECKPOINT.sha256_prefix)
    assert path.stat().st_size < 25 * 2**20


def test_every_key_loads_into_the_half_width_resnet18() -> None:
    stored = torch.load(weights.openlv_weights_path(), map_location="cpu", weights_only=True)
    reference = ARCHITECTURES[OPENLV_ARCHITECTURE]().state_dict()
    assert stored.keys() == reference.keys()
    assert all(stored[name].shape == reference[name].shape for name in reference)
    model = build_backbone("resnet18", "openlv")
    assert all(value.dtype == torch.float32 for value in model.parameters())
    assert torch.equal(model.state_dict()["layer3.1.conv2.weight"], stored["layer3.1.conv2.weight"].float())


def test_features_have_the_narrow_channels_and_layer4_is_refused() -> None:
    extractor = build_feature_extractor("resnet18", ["layer1", "layer2", "layer3"], "openlv")
    features = extractor(torch.rand(1, 3, 64, 64))
    assert {name: tuple(value.shape[1:]) for name, value in features.items()} == {
        "layer1": (32, 16, 16),
        "layer2": (64, 8, 8),
        "layer3": (128, 4, 4),
    }
    with pytest.raises(Exception, match="layer3"):
        parse_hyperparameters("patchcore", {"weights": "openlv", "layers": ["layer3", "layer4"]})


def test_a_damaged_file_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(weights, "OPENLV_SHA256", "0" * 64)
    with pytest.raises(WeightsUnavailableError, match="corrupted"):
        build_backbone("resnet18", "openlv")


@pytest.mark.parametrize("model_name", ["patchcore", "padim", "stfpm"])
def test_a_tiny_fit_on_openlv_weights(model_name: str, tiny_data: TinyData, tmp_path: Path) -> None:
    del tmp_path
    hyperparameters = {**tiny_hyperparameters(model_name), "weights": "openlv"}
    trained = fit(model_name, tiny_data.train, tiny_data.val, hyperparameters=hyperparameters, seed=0)
    assert trained.hyperparameters.weights == "openlv"
    assert 0.0 <= trained.evaluation.metrics["image_auroc"] <= 1.0

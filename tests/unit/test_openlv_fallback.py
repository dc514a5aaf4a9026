"""Without BackboneWeights, a backbone model gets ImageNet's weights when cached, else the backbone openlv ships."""

from pathlib import Path

import pytest

from service.domain.algorithms import choose_training
from service.engine.backbones import IMAGENET_CHECKPOINTS
from service.errors import ValidationException


def _choose(algorithm: str, weights_dir: Path, backbone_weights: str | None = None) -> str:
    choice = choose_training(
        algorithm=algorithm,
        hyperparameters=None,
        backbone_weights=backbone_weights,
        image_size=64,
        weights_dir=weights_dir,
    )
    return choice.backbone_weights


@pytest.mark.parametrize("algorithm", ["patchcore", "padim", "stfpm", "fastflow", "efficient_ad"])
def test_offline_server_falls_back_to_openlv(algorithm: str, tmp_path: Path) -> None:
    assert _choose(algorithm, tmp_path) == "openlv"


def test_cached_imagenet_weights_win(tmp_path: Path) -> None:
    (tmp_path / IMAGENET_CHECKPOINTS["resnet18"].file_name).write_bytes(b"cached")
    assert _choose("patchcore", tmp_path) == "imagenet"


def test_named_weights_are_kept(tmp_path: Path) -> None:
    assert _choose("patchcore", tmp_path, "random") == "random"
    assert _choose("padim", tmp_path, "openlv") == "openlv"
    with pytest.raises(ValidationException, match="needs ImageNet weights"):
        _choose("patchcore", tmp_path, "imagenet")


def test_openlv_is_refused_where_it_does_not_fit(tmp_path: Path) -> None:
    with pytest.raises(ValidationException, match="openlv"):
        _choose("reverse_distillation", tmp_path, "openlv")
    with pytest.raises(ValidationException, match="needs ImageNet weights"):
        _choose("reverse_distillation", tmp_path)

"""ResNet backbones: torchvision's parameter layout, feature extraction, seeded init, strict checkpoint loading."""

from pathlib import Path

import pytest
import torch

from service.engine.backbones import (
    FeatureExtractor,
    GaussianBlur2d,
    ImageNetNormalization,
    build_backbone,
    build_feature_extractor,
)
from service.engine.errors import EngineError


def test_resnet18_has_torchvisions_parameter_layout() -> None:
    model = build_backbone("resnet18", "random")
    state = model.state_dict()
    assert sum(p.numel() for p in model.parameters()) == 11_689_512
    assert state["conv1.weight"].shape == (64, 3, 7, 7)
    assert state["layer2.0.downsample.0.weight"].shape == (128, 64, 1, 1)
    assert state["layer4.1.bn2.running_var"].shape == (512,)
    assert state["fc.weight"].shape == (1000, 512)
    assert "layer1.0.downsample.0.weight" not in state


def test_wide_resnet50_2_bottlenecks_are_twice_as_wide() -> None:
    model = build_backbone("wide_resnet50_2", "random")
    assert sum(p.numel() for p in model.parameters()) == 68_883_240
    assert model.layer1[0].conv2.weight.shape == (128, 128, 3, 3)
    assert model.layer3[5].conv3.weight.shape == (1024, 512, 1, 1)
    assert model.stage_channels == {"layer1": 256, "layer2": 512, "layer3": 1024, "layer4": 2048}


def test_random_init_is_seeded_and_leaves_global_rng_alone() -> None:
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    first = build_backbone("resnet18", "random", seed=7)
    assert torch.equal(torch.rand(1), before)
    again = build_backbone("resnet18", "random", seed=7)
    other = build_backbone("resnet18", "random", seed=8)
    assert torch.equal(first.conv1.weight, again.conv1.weight)
    assert not torch.equal(first.conv1.weight, other.conv1.weight)


def test_feature_extractor_returns_named_stages_and_drops_later_ones() -> None:
    extractor = build_feature_extractor("resnet18", ["layer3", "layer1"], "random")
    features = extractor(torch.rand(2, 3, 64, 64))
    assert list(features) == ["layer1", "layer3"]
    assert features["layer1"].shape == (2, 64, 16, 16)
    assert features["layer3"].shape == (2, 256, 4, 4)
    assert extractor.channels == {"layer1": 64, "layer3": 256}
    assert not any(key.startswith(("layer4", "fc")) for key in extractor.state_dict())


def test_frozen_extractor_has_no_trainable_parameters_and_stays_in_eval() -> None:
    extractor = build_feature_extractor("resnet18", ["layer2"], "random")
    torch.nn.Sequential(extractor).train()
    assert not extractor.training and not extractor.bn1.training
    assert not any(p.requires_grad for p in extractor.parameters())
    trainable = FeatureExtractor(build_backbone("resnet18", "random"), ["layer2"], frozen=False).train()
    assert trainable.training and all(p.requires_grad for p in trainable.parameters())


def test_unknown_layers_and_backbones_are_refused() -> None:
    with pytest.raises(ValueError, match="layer"):
        build_feature_extractor("resnet18", ["layer5"], "random")
    with pytest.raises(EngineError, match="unknown backbone"):
        build_backbone("vgg16", "random")


def test_state_dict_round_trips_strictly_through_a_file(tmp_path: Path) -> None:
    source = build_backbone("resnet18", "random", seed=3)
    path = tmp_path / "resnet18.pth"
    torch.save(source.state_dict(), path)
    loaded = build_backbone("resnet18", str(path), seed=99)
    images = torch.rand(1, 3, 64, 64)
    assert torch.equal(loaded(images), source(images))
    incomplete = source.state_dict()
    del incomplete["fc.bias"]
    torch.save(incomplete, tmp_path / "incomplete.pth")
    with pytest.raises(EngineError, match="not a resnet18 checkpoint"):
        build_backbone("resnet18", str(tmp_path / "incomplete.pth"))


def test_imagenet_normalisation_and_blur_are_buffers() -> None:
    normalise = ImageNetNormalization()
    assert set(normalise.state_dict()) == {"mean", "std"}
    assert torch.allclose(normalise(torch.full((1, 3, 2, 2), 0.485))[0, 0], torch.zeros(2, 2), atol=1e-6)
    blur = GaussianBlur2d(sigma=2.0)
    impulse = torch.zeros(1, 1, 33, 33)
    impulse[0, 0, 16, 16] = 1.0
    blurred = blur(impulse)
    assert blurred.shape == impulse.shape
    assert torch.isclose(blurred.sum(), torch.tensor(1.0), atol=1e-5)
    assert int(blurred.argmax()) == 16 * 33 + 16
    assert torch.allclose(blurred[0, 0], blurred[0, 0].T, atol=1e-7)

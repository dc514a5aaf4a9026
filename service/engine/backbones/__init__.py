"""ResNet backbones with torchvision-compatible weights (ImageNet's ResNet-18 and Wide-ResNet-50-2, openlv's own
half-width ResNet-18 pretrained on procedural images), and feature extraction."""

import os
from collections.abc import Sequence
from pathlib import Path

import torch

from service.engine.backbones.feature_extractor import FeatureExtractor
from service.engine.backbones.normalization import ImageNetNormalization
from service.engine.backbones.resnet import ARCHITECTURES, ResNet
from service.engine.backbones.smoothing import GaussianBlur2d
from service.engine.backbones.weights import (
    IMAGENET_CHECKPOINTS,
    OPENLV_ARCHITECTURE,
    CheckpointFile,
    imagenet_weights_available,
    imagenet_weights_path,
    import_weights,
    openlv_weights_path,
)
from service.engine.errors import EngineError, WeightsUnavailableError

BACKBONES = tuple(ARCHITECTURES)

__all__ = [
    "BACKBONES",
    "IMAGENET_CHECKPOINTS",
    "OPENLV_ARCHITECTURE",
    "CheckpointFile",
    "FeatureExtractor",
    "GaussianBlur2d",
    "ImageNetNormalization",
    "ResNet",
    "architecture_for",
    "build_backbone",
    "build_feature_extractor",
    "imagenet_weights_available",
    "imagenet_weights_path",
    "import_weights",
    "openlv_weights_path",
]


def architecture_for(name: str, weights: str) -> str:
    """The network `build_backbone(name, weights)` builds: openlv's weights bring their own (half-width) ResNet-18,
    whatever backbone was named; any other weights fill the named one."""
    return OPENLV_ARCHITECTURE if weights == "openlv" else name


def build_backbone(
    name: str,
    weights: str = "imagenet",
    *,
    seed: int = 0,
    cache_dir: str | os.PathLike[str] | None = None,
    base_url: str | None = None,
) -> ResNet:
    """A ResNet in eval mode with `weights`: "imagenet" (cached in `cache_dir` or downloaded from `base_url`),
    "openlv" (shipped; replaces the network by `OPENLV_ARCHITECTURE`), "random" (seeded) or a checkpoint path.

    Random initialisation draws from its own seeded generator state, so it neither depends on nor disturbs the global
    RNG. A checkpoint must be a plain torchvision-style state dict and load strictly.
    """
    if name not in ARCHITECTURES:
        raise EngineError(f"unknown backbone {name!r}; known backbones: {', '.join(BACKBONES)}")
    path = None
    architecture = architecture_for(name, weights)
    if weights == "openlv":
        path = openlv_weights_path()
    elif weights == "imagenet":
        if cache_dir is None:
            raise WeightsUnavailableError(f"ImageNet weights for {name} need a weights folder (cache_dir)")
        path = imagenet_weights_path(name, cache_dir, base_url)
    elif weights != "random":
        path = Path(weights)
        if not path.is_file():
            raise WeightsUnavailableError(f"backbone weights file {path} does not exist")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = ARCHITECTURES[architecture]()
    if path is None:
        return model.eval()
    state_dict = torch.load(path, map_location="cpu", weights_only=True)
    try:
        model.load_state_dict(state_dict, strict=True)
    except RuntimeError as exc:
        raise EngineError(f"{path} is not a {architecture} checkpoint: {exc}") from None
    return model.eval()


def build_feature_extractor(
    name: str,
    layers: Sequence[str],
    weights: str = "imagenet",
    *,
    seed: int = 0,
    frozen: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    base_url: str | None = None,
) -> FeatureExtractor:
    """`build_backbone` followed by `FeatureExtractor(backbone, layers, frozen=frozen)`."""
    backbone = build_backbone(name, weights, seed=seed, cache_dir=cache_dir, base_url=base_url)
    return FeatureExtractor(backbone, layers, frozen=frozen)

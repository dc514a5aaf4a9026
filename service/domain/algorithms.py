"""Which algorithm a CreateModel request trains, with which settings: the openlv extension fields, checked up front.

Plain boto3 code sends none of them and gets the default: PatchCore when ImageNet backbone weights are on this machine,
otherwise the engine's from-scratch model (DRAEM), which needs no pretrained weights. A backbone model chosen without
BackboneWeights gets ImageNet's weights when they are cached and otherwise the backbone openlv ships (pretrained on
procedural images, `BackboneWeights=openlv`), so an offline server never falls back to random features. The engine is
imported on first use, so the API process does not load torch until a model is created.
"""

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from service.domain.training_resources import RESOURCE_KEYS, requested_resources
from service.errors import ValidationException

PRETRAINED_DEFAULT = "patchcore"
FROM_SCRATCH_DEFAULT = "draem"
WEIGHT_CHOICES = ("imagenet", "openlv", "random")
_CHECKPOINT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")


@dataclass(frozen=True)
class TrainingChoice:
    algorithm: str
    hyperparameters: dict[str, str]
    backbone_weights: str
    image_size: int | None

    def engine_hyperparameters(self) -> dict[str, Any]:
        """The hyperparameters the engine reads: the executor's resource keys (`training_resources`) left out."""
        values: dict[str, Any] = {key: value for key, value in self.hyperparameters.items() if key not in RESOURCE_KEYS}
        if self.image_size is not None:
            values["image_size"] = self.image_size
        return values


def _backbone_of(algorithm: str) -> str | None:
    """The backbone a model's default hyperparameters name, if it has one."""
    from service.engine import registry

    defaults = registry.get_spec(algorithm).hyperparameters()
    backbone = getattr(defaults, "backbone", None)
    return backbone if isinstance(backbone, str) else None


def _imagenet_ready(algorithm: str, weights_dir: Path) -> bool:
    from service.engine.backbones import imagenet_weights_available

    backbone = _backbone_of(algorithm)
    return backbone is not None and imagenet_weights_available(backbone, weights_dir)


def _accepts_openlv(algorithm: str, hyperparameters: dict[str, Any]) -> bool:
    from service.engine import registry
    from service.engine.errors import EngineError

    if _backbone_of(algorithm) is None:
        return False
    try:
        registry.parse_hyperparameters(algorithm, {**hyperparameters, "weights": "openlv"})
    except EngineError:
        return False
    return True


def default_weights(algorithm: str, hyperparameters: dict[str, Any], weights_dir: Path) -> str:
    """ImageNet's when cached (or when the model has no backbone), else openlv's shipped backbone where it fits."""
    if _imagenet_ready(algorithm, weights_dir) or not _accepts_openlv(algorithm, hyperparameters):
        return "imagenet"
    return "openlv"


def default_algorithm(weights_dir: Path) -> str:
    return PRETRAINED_DEFAULT if _imagenet_ready(PRETRAINED_DEFAULT, weights_dir) else FROM_SCRATCH_DEFAULT


def choose_training(
    *,
    algorithm: str | None,
    hyperparameters: dict[str, str] | None,
    backbone_weights: str | None,
    image_size: int | None,
    weights_dir: Path,
    tile_size: str | None = None,
) -> TrainingChoice:
    """Validate the extension fields against the engine's registry; ValidationException says what to change.

    `weights_dir` is the service's ImageNet checkpoint folder (`Settings.resolved_weights_dir`), the one the training
    worker reads. `tile_size` (TileSize: pixels, "auto" or "0") is kept among the hyperparameters as `tile_size`, where
    the engine's tiling settings live for every model (with `tile_overlap`, `tile_batch_size`).
    """
    from service.engine import registry
    from service.engine.errors import EngineError
    from service.engine.tiling import split_tiling

    name = algorithm or default_algorithm(weights_dir)
    known = [spec.name for spec in registry.list_models()]
    if name not in known:
        raise ValidationException(f"Unknown Algorithm {name!r}; choose one of: {', '.join(known)}.")
    choice = TrainingChoice(
        algorithm=name,
        hyperparameters={**(hyperparameters or {}), **({"tile_size": tile_size} if tile_size is not None else {})},
        backbone_weights=backbone_weights or "imagenet",
        image_size=image_size,
    )
    requested_resources(choice.hyperparameters)
    try:
        _, model_hyperparameters = split_tiling(choice.engine_hyperparameters())
        registry.parse_hyperparameters(name, model_hyperparameters)
    except EngineError as exc:
        raise ValidationException(f"Invalid Hyperparameters: {exc}") from None
    if backbone_weights is None:
        choice = replace(choice, backbone_weights=default_weights(name, model_hyperparameters, weights_dir))
    elif backbone_weights == "openlv" and not _accepts_openlv(name, model_hyperparameters):
        raise ValidationException(
            f"Algorithm {name} cannot use BackboneWeights=openlv (openlv's half-width ResNet-18, layer1..layer3)."
        )
    _check_weights(choice, weights_dir)
    return choice


def _check_weights(choice: TrainingChoice, weights_dir: Path) -> None:
    from service.engine import registry
    from service.engine.backbones import imagenet_weights_available

    weights = choice.backbone_weights
    if weights not in WEIGHT_CHOICES and not _cached_checkpoint_exists(weights, weights_dir):
        raise ValidationException(
            f"BackboneWeights {weights!r} must be 'imagenet', 'openlv', 'random' or the file name of a checkpoint in the "
            "server's weights cache (`lv weights list`)."
        )
    if weights != "imagenet" or not registry.get_spec(choice.algorithm).needs_pretrained:
        return
    backbone = _backbone_of(choice.algorithm)
    if backbone is not None and not imagenet_weights_available(backbone, weights_dir):
        raise ValidationException(
            f"Algorithm {choice.algorithm} needs ImageNet weights for {backbone}, which are not on this server. "
            f"Import them with `lv weights import PATH`, or choose Algorithm={FROM_SCRATCH_DEFAULT} "
            "(trained from scratch), or BackboneWeights=openlv (openlv's own backbone, shipped) or random."
        )


def _cached_checkpoint_exists(name: str, weights_dir: Path) -> bool:
    """Only a bare file name inside the weights cache: a path could probe the server's file system."""
    if not _CHECKPOINT_NAME.fullmatch(name) or ".." in name:
        return False
    return (weights_dir / name).is_file()


def engine_weights(backbone_weights: str, weights_dir: Path) -> str:
    """What the engine is given for a model's BackboneWeights: a WEIGHT_CHOICES name or the cached checkpoint's path."""
    if backbone_weights in WEIGHT_CHOICES:
        return backbone_weights
    return str(weights_dir / backbone_weights)

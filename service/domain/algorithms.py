"""Which algorithm a CreateModel request trains, with which settings: the openlv extension fields, checked up front.

Plain boto3 code sends none of them and gets the default: PatchCore when ImageNet backbone weights are on this machine,
otherwise the engine's from-scratch model (DRAEM), which needs no pretrained weights. The engine is imported on first
use, so the API process does not load torch until a model is created.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.errors import ValidationException

PRETRAINED_DEFAULT = "patchcore"
FROM_SCRATCH_DEFAULT = "draem"
WEIGHT_CHOICES = ("imagenet", "random")


@dataclass(frozen=True)
class TrainingChoice:
    algorithm: str
    hyperparameters: dict[str, str]
    backbone_weights: str
    image_size: int | None

    def engine_hyperparameters(self) -> dict[str, Any]:
        values: dict[str, Any] = dict(self.hyperparameters)
        if self.image_size is not None:
            values["image_size"] = self.image_size
        return values


def _backbone_of(algorithm: str) -> str | None:
    """The backbone a model's default hyperparameters name, if it has one."""
    from service.engine import registry

    defaults = registry.get_spec(algorithm).hyperparameters()
    backbone = getattr(defaults, "backbone", None)
    return backbone if isinstance(backbone, str) else None


def _imagenet_ready(algorithm: str) -> bool:
    from service.engine.backbones import imagenet_weights_available

    backbone = _backbone_of(algorithm)
    return backbone is not None and imagenet_weights_available(backbone)


def default_algorithm() -> str:
    return PRETRAINED_DEFAULT if _imagenet_ready(PRETRAINED_DEFAULT) else FROM_SCRATCH_DEFAULT


def choose_training(
    *,
    algorithm: str | None,
    hyperparameters: dict[str, str] | None,
    backbone_weights: str | None,
    image_size: int | None,
    tile_size: str | None = None,
) -> TrainingChoice:
    """Validate the extension fields against the engine's registry; ValidationException says what to change.

    `tile_size` (TileSize: pixels, "auto" or "0") is kept among the hyperparameters as `tile_size`, where the engine's
    tiling settings live for every model (with `tile_overlap`, `tile_batch_size`).
    """
    from service.engine import registry
    from service.engine.errors import EngineError
    from service.engine.tiling import split_tiling

    name = algorithm or default_algorithm()
    known = [spec.name for spec in registry.list_models()]
    if name not in known:
        raise ValidationException(f"Unknown Algorithm {name!r}; choose one of: {', '.join(known)}.")
    choice = TrainingChoice(
        algorithm=name,
        hyperparameters={**(hyperparameters or {}), **({"tile_size": tile_size} if tile_size is not None else {})},
        backbone_weights=backbone_weights or "imagenet",
        image_size=image_size,
    )
    try:
        _, model_hyperparameters = split_tiling(choice.engine_hyperparameters())
        registry.parse_hyperparameters(name, model_hyperparameters)
    except EngineError as exc:
        raise ValidationException(f"Invalid Hyperparameters: {exc}") from None
    _check_weights(choice)
    return choice


def _check_weights(choice: TrainingChoice) -> None:
    from service.engine import registry
    from service.engine.backbones import imagenet_weights_available

    weights = choice.backbone_weights
    if weights not in WEIGHT_CHOICES and not Path(weights).is_file():
        raise ValidationException(
            f"BackboneWeights {weights!r} is neither 'imagenet', 'random' nor a weights file on the server."
        )
    if weights != "imagenet" or not registry.get_spec(choice.algorithm).needs_pretrained:
        return
    backbone = _backbone_of(choice.algorithm)
    if backbone is not None and not imagenet_weights_available(backbone):
        raise ValidationException(
            f"Algorithm {choice.algorithm} needs ImageNet weights for {backbone}, which are not on this server. "
            f"Import them with `lv weights import PATH`, or choose Algorithm={FROM_SCRATCH_DEFAULT} "
            "(trained from scratch), or BackboneWeights=random."
        )

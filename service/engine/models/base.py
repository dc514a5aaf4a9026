"""Training concerns shared by every anomaly model: typed hyperparameters, the LightningModule base, the spec a
model's package exposes to the registry."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import lightning as L
import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from torch import nn

from service.engine.types import InferenceBatch


class Hyperparameters(BaseModel):
    """Base of every model's typed hyperparameters: unknown names are refused, values are validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    image_size: int = 256


STAGES = ("layer1", "layer2", "layer3", "layer4")


class BackboneHyperparameters(Hyperparameters):
    """What every model on a pretrained ResNet shares: which backbone, where its weights come from, which stages."""

    backbone: Literal["resnet18", "wide_resnet50_2"] = "resnet18"
    weights: str = Field(
        "imagenet",
        description='"imagenet", "openlv" (shipped, pretrained on procedural images: a half-width ResNet-18 up to '
        'layer3, whatever `backbone` says), "random" or the path of a torchvision state dict',
    )
    layers: tuple[str, ...] = ("layer1", "layer2", "layer3")
    seed: int = 0

    @model_validator(mode="after")
    def _openlv_has_three_stages(self) -> "BackboneHyperparameters":
        if self.weights == "openlv" and "layer4" in self.layers:
            raise ValueError("openlv's backbone stops after layer3; choose layers among layer1, layer2, layer3")
        return self

    @field_validator("layers")
    @classmethod
    def _known_stages(cls, layers: tuple[str, ...]) -> tuple[str, ...]:
        if not layers or any(layer not in STAGES for layer in layers) or len(set(layers)) != len(layers):
            raise ValueError(f"layers must be distinct names among {', '.join(STAGES)}")
        return tuple(sorted(layers, key=STAGES.index))


class AnomalyModule(L.LightningModule):
    """A LightningModule around a plain `torch_model` (`self.model`).

    Subclasses implement `training_step` (and `configure_optimizers` when they learn weights). Validation runs the
    eval forward and keeps every output so the training harness can compute score normalisation and metrics.
    `trainer_arguments` lets a model ask for what it needs (memory-bank models train one epoch without gradients).
    """

    trainer_arguments: ClassVar[dict[str, Any]] = {}

    def __init__(self, model: nn.Module, hyperparameters: Hyperparameters) -> None:
        super().__init__()
        self.model = model
        self.hyperparameters = hyperparameters
        self.validation_outputs: list[dict[str, torch.Tensor]] = []

    def forward(self, images: torch.Tensor) -> InferenceBatch:
        return self.model(images)

    def on_validation_epoch_start(self) -> None:
        self.validation_outputs = []

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        del batch_idx
        output = self.model(batch["image"])
        self.validation_outputs.append(
            {
                "pred_score": output.pred_score.detach().cpu(),
                "anomaly_map": output.anomaly_map.detach().cpu(),
                "label": batch["label"].cpu(),
                "mask": batch["mask"].cpu(),
            }
        )

    def configure_optimizers(self) -> Any:
        return None


class OnePassAnomalyModule(AnomalyModule):
    """A model fitted from one pass over the good images, without an optimiser (PatchCore, PaDiM).

    Subclasses gather statistics in `training_step` and fit from them in `finish_pass`. Lightning validates before
    `on_train_epoch_end` runs, so the pass is finished when validation starts too; `finish_pass` must do nothing when
    nothing new was gathered.
    """

    trainer_arguments: ClassVar[dict[str, Any]] = {"max_epochs": 1, "num_sanity_val_steps": 0}

    def finish_pass(self) -> None:
        raise NotImplementedError

    def on_validation_start(self) -> None:
        self.finish_pass()

    def on_train_epoch_end(self) -> None:
        self.finish_pass()


@dataclass(frozen=True)
class ModelSpec:
    """What the registry knows of one model; each model package defines its `SPEC`.

    `build(hyperparameters)` is the package's `<Name>Lightning` class. `needs_pretrained`: the model is only useful
    with ImageNet backbone weights (PatchCore, PaDiM, STFPM's teacher).
    """

    name: str
    description: str
    hyperparameters: type[Hyperparameters]
    build: Callable[[Any], AnomalyModule]
    needs_pretrained: bool

"""Training of STFPM: the student learns to reproduce the frozen teacher's normalised features on normal images."""

from typing import Any, ClassVar, Literal

import torch

from service.engine.models.base import AnomalyModule, Hyperparameters
from service.engine.models.stfpm.loss import feature_pyramid_loss
from service.engine.models.stfpm.torch_model import StfpmModel


class StfpmHyperparameters(Hyperparameters):
    """Defaults follow the paper: ResNet-18 layer1..layer3, SGD lr 0.4, momentum 0.9, weight decay 1e-4, 100 epochs.

    `weights` is the teacher's: "imagenet" (STFPM is only meaningful with a pretrained teacher), "random" (tests) or a
    checkpoint path. The student always starts from a random initialisation seeded by `seed`. For a handful of images,
    `optimizer="adam"` with `learning_rate=1e-3` converges in fewer steps than the paper's large-batch SGD.
    """

    image_size: int = 256
    backbone: Literal["resnet18", "wide_resnet50_2"] = "resnet18"
    weights: str = "imagenet"
    layers: tuple[Literal["layer1", "layer2", "layer3", "layer4"], ...] = ("layer1", "layer2", "layer3")
    optimizer: Literal["sgd", "adam"] = "sgd"
    learning_rate: float = 0.4
    momentum: float = 0.9
    weight_decay: float = 1e-4
    max_epochs: int = 100
    seed: int = 0


class StfpmLightning(AnomalyModule):
    """Stops itself after `max_epochs`, so the trainer may run unbounded."""

    trainer_arguments: ClassVar[dict[str, Any]] = {"max_epochs": -1}

    def __init__(self, model: StfpmModel, hyperparameters: StfpmHyperparameters) -> None:
        super().__init__(model, hyperparameters)
        self.settings = hyperparameters

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        del batch_idx
        teacher_features, student_features = self.model.features(batch["image"])
        loss = feature_pyramid_loss(teacher_features, student_features)
        self.log("train_loss", loss, prog_bar=True, batch_size=batch["image"].shape[0])
        return loss

    def on_train_epoch_end(self) -> None:
        if self.current_epoch + 1 >= self.settings.max_epochs:
            self.trainer.should_stop = True

    def configure_optimizers(self) -> torch.optim.Optimizer:
        parameters = self.model.student.parameters()
        settings = self.settings
        if settings.optimizer == "adam":
            return torch.optim.Adam(parameters, lr=settings.learning_rate, weight_decay=settings.weight_decay)
        return torch.optim.SGD(
            parameters, lr=settings.learning_rate, momentum=settings.momentum, weight_decay=settings.weight_decay
        )

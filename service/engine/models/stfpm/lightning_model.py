"""Training of STFPM: the student learns to reproduce the frozen teacher's normalised features on normal images."""

from typing import Any, ClassVar

import torch

from service.engine.backbones import architecture_for, build_feature_extractor
from service.engine.models.base import AnomalyModule
from service.engine.models.stfpm.hyperparameters import StfpmHyperparameters
from service.engine.models.stfpm.loss import feature_pyramid_loss
from service.engine.models.stfpm.torch_model import StfpmModel


class StfpmLightning(AnomalyModule):
    """A frozen teacher with `weights` and a randomly initialised, trainable student of the same backbone; stops
    itself after `max_epochs`, so the trainer may run unbounded.

    The student's initialisation is seeded with `seed + 1`, so it never equals a random teacher (seeded with `seed`).
    """

    trainer_arguments: ClassVar[dict[str, Any]] = {"max_epochs": -1}

    def __init__(self, hyperparameters: StfpmHyperparameters) -> None:
        layers, backbone, seed = list(hyperparameters.layers), hyperparameters.backbone, hyperparameters.seed
        teacher = build_feature_extractor(backbone, layers, hyperparameters.weights, seed=seed, frozen=True)
        student_backbone = architecture_for(backbone, hyperparameters.weights)
        student = build_feature_extractor(student_backbone, layers, "random", seed=seed + 1, frozen=False)
        super().__init__(StfpmModel(teacher, student), hyperparameters)
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

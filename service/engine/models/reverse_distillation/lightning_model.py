"""Training of Reverse Distillation: the bottleneck and the student decoder learn to reconstruct the frozen teacher's
features of normal images."""

from typing import Any, ClassVar

import torch

from service.engine.models.base import AnomalyModule
from service.engine.models.budget import EpochBudget
from service.engine.models.reverse_distillation.hyperparameters import ReverseDistillationHyperparameters
from service.engine.models.reverse_distillation.loss import reverse_distillation_loss
from service.engine.models.reverse_distillation.torch_model import ReverseDistillationModel


class ReverseDistillationLightning(AnomalyModule):
    """The trainable parts are initialised from `seed` without touching the global RNG; stops itself when its epoch
    or time budget is spent, so the trainer may run unbounded."""

    trainer_arguments: ClassVar[dict[str, Any]] = {"max_epochs": -1}

    def __init__(self, hyperparameters: ReverseDistillationHyperparameters) -> None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(hyperparameters.seed + 1)
            model = ReverseDistillationModel(
                backbone=hyperparameters.backbone, weights=hyperparameters.weights, seed=hyperparameters.seed
            )
        super().__init__(model, hyperparameters)
        self.settings = hyperparameters
        self.budget = EpochBudget(hyperparameters.max_epochs, hyperparameters.max_minutes)

    def on_train_start(self) -> None:
        self.budget.start()

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        del batch_idx
        loss = reverse_distillation_loss(*self.model.features(batch["image"]))
        self.log("train_loss", loss, prog_bar=True, batch_size=batch["image"].shape[0])
        return loss

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        del outputs, batch, batch_idx
        if self.budget.out_of_time():
            self.trainer.should_stop = True

    def on_train_epoch_end(self) -> None:
        if self.budget.spent(self.current_epoch + 1):
            self.trainer.should_stop = True

    def configure_optimizers(self) -> torch.optim.Optimizer:
        parameters = [*self.model.bottleneck.parameters(), *self.model.decoder.parameters()]
        betas = (self.settings.beta1, self.settings.beta2)
        return torch.optim.Adam(parameters, lr=self.settings.learning_rate, betas=betas)

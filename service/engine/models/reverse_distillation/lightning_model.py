"""Training of Reverse Distillation: the bottleneck and the student decoder learn to reconstruct the frozen teacher's
features of normal images."""

import torch

from service.engine.models.budget import EpochBudget, EpochBudgetedModule
from service.engine.models.reverse_distillation.hyperparameters import ReverseDistillationHyperparameters
from service.engine.models.reverse_distillation.loss import reverse_distillation_loss
from service.engine.models.reverse_distillation.torch_model import ReverseDistillationModel


class ReverseDistillationLightning(EpochBudgetedModule):
    """The trainable parts are initialised from `seed` without touching the global RNG; stops itself when its epoch
    or time budget is spent, so the trainer may run unbounded."""

    def __init__(self, hyperparameters: ReverseDistillationHyperparameters) -> None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(hyperparameters.seed + 1)
            model = ReverseDistillationModel(
                backbone=hyperparameters.backbone, weights=hyperparameters.weights, seed=hyperparameters.seed
            )
        super().__init__(model, hyperparameters, EpochBudget(hyperparameters.max_epochs, hyperparameters.max_minutes))
        self.settings = hyperparameters

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        del batch_idx
        loss = reverse_distillation_loss(*self.model.features(batch["image"]))
        self.log("train_loss", loss, prog_bar=True, batch_size=batch["image"].shape[0])
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        parameters = [*self.model.bottleneck.parameters(), *self.model.decoder.parameters()]
        betas = (self.settings.beta1, self.settings.beta2)
        return torch.optim.Adam(parameters, lr=self.settings.learning_rate, betas=betas)

"""Training of FastFlow: the flows (and their LayerNorms) maximise the likelihood of normal features under a
standard normal; the backbone stays frozen."""

from typing import Any, ClassVar

import torch

from service.engine.models.base import AnomalyModule
from service.engine.models.budget import EpochBudget
from service.engine.models.fastflow.hyperparameters import FastflowHyperparameters
from service.engine.models.fastflow.torch_model import FastflowModel, negative_log_likelihood


class FastflowLightning(AnomalyModule):
    """The flows are initialised from `seed` without touching the global RNG; stops itself when its epoch or time
    budget is spent, so the trainer may run unbounded."""

    trainer_arguments: ClassVar[dict[str, Any]] = {"max_epochs": -1}

    def __init__(self, hyperparameters: FastflowHyperparameters) -> None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(hyperparameters.seed + 1)
            model = FastflowModel(
                hyperparameters.image_size,
                backbone=hyperparameters.backbone,
                layers=hyperparameters.layers,
                weights=hyperparameters.weights,
                seed=hyperparameters.seed,
                flow_steps=hyperparameters.flow_steps,
                hidden_ratio=hyperparameters.hidden_ratio,
                clamp=hyperparameters.clamp,
                conv3x3_only=hyperparameters.conv3x3_only,
            )
        super().__init__(model, hyperparameters)
        self.settings = hyperparameters
        self.budget = EpochBudget(hyperparameters.max_epochs, hyperparameters.max_minutes)

    def on_train_start(self) -> None:
        self.budget.start()

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        del batch_idx
        loss = negative_log_likelihood(*self.model.latents(batch["image"]))
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
        trainable = [p for p in self.model.parameters() if p.requires_grad]
        return torch.optim.Adam(trainable, lr=self.settings.learning_rate, weight_decay=self.settings.weight_decay)

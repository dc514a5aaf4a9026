"""Training of FastFlow: the flows (and their LayerNorms) maximise the likelihood of normal features under a
standard normal; the backbone stays frozen."""

import torch

from service.engine.models.budget import EpochBudget, EpochBudgetedModule
from service.engine.models.fastflow.hyperparameters import FastflowHyperparameters
from service.engine.models.fastflow.torch_model import FastflowModel, negative_log_likelihood


class FastflowLightning(EpochBudgetedModule):
    """The flows are initialised from `seed` without touching the global RNG; stops itself when its epoch or time
    budget is spent, so the trainer may run unbounded."""

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
        super().__init__(model, hyperparameters, EpochBudget(hyperparameters.max_epochs, hyperparameters.max_minutes))
        self.settings = hyperparameters

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        del batch_idx
        loss = negative_log_likelihood(*self.model.latents(batch["image"]))
        self.log("train_loss", loss, prog_bar=True, batch_size=batch["image"].shape[0])
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        trainable = [p for p in self.model.parameters() if p.requires_grad]
        return torch.optim.Adam(trainable, lr=self.settings.learning_rate, weight_decay=self.settings.weight_decay)

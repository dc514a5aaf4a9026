"""Training of the scratch model: paint synthetic defects onto each normal batch and learn to segment them.

Training is bounded by a step budget and a wall-clock budget, whichever ends first; the learning rate follows a
warm-up then a cosine decay over the fraction of that budget spent, so a slow machine still ends with an annealed model.
"""

import math
import time
from typing import Any, ClassVar

import torch

from service.engine.augment import AnomalyConfig, SyntheticAnomalies
from service.engine.models.base import AnomalyModule
from service.engine.models.draem.hyperparameters import DraemHyperparameters
from service.engine.models.draem.loss import segmentation_loss
from service.engine.models.draem.torch_model import DraemModel


class DraemLightning(AnomalyModule):
    """A freshly initialised model (seeded without touching the global RNG) that stops itself when its budget is
    spent, so the trainer may run unbounded."""

    trainer_arguments: ClassVar[dict[str, Any]] = {"max_epochs": -1}

    def __init__(self, hyperparameters: DraemHyperparameters) -> None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(hyperparameters.seed)
            model = DraemModel(
                hyperparameters.image_size,
                base_channels=hyperparameters.base_channels,
                depth=hyperparameters.depth,
                score_top_fraction=hyperparameters.score_top_fraction,
                memory_weight=hyperparameters.memory_weight,
            )
        super().__init__(model, hyperparameters)
        self.settings = hyperparameters
        config = AnomalyConfig(probability=hyperparameters.anomaly_probability, blend=(hyperparameters.min_blend, 1.0))
        self.anomalies = SyntheticAnomalies(config, seed=hyperparameters.seed)
        self._started_at = time.monotonic()

    def on_train_start(self) -> None:
        self._started_at = time.monotonic()

    def budget_spent(self) -> float:
        """Fraction of the training budget used, by steps or by time, whichever is further along."""
        by_steps = self.global_step / self.settings.max_steps
        by_time = (time.monotonic() - self._started_at) / (60 * self.settings.max_minutes)
        return max(by_steps, by_time)

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        del batch, batch_idx
        warmup = min(1.0, (self.global_step + 1) / max(1, self.settings.warmup_steps))
        cosine = 0.5 * (1 + math.cos(math.pi * min(1.0, self.budget_spent())))
        for group in self.optimizers().optimizer.param_groups:
            group["lr"] = self.settings.learning_rate * warmup * cosine

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        del batch_idx
        device = batch["image"].device
        augmented = self.anomalies(batch["image"].detach().cpu())
        images, masks = augmented.images.to(device), augmented.masks.to(device)
        loss = segmentation_loss(self.model.logits(images), masks)
        self.log("train_loss", loss, prog_bar=True, batch_size=images.shape[0])
        return loss

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        del outputs, batch, batch_idx
        if self.budget_spent() >= 1.0:
            self.trainer.should_stop = True

    def on_train_end(self) -> None:
        """Fill the normal-patch memory from one pass over the training images, as they are (no augmentation)."""
        if self.settings.memory_weight == 0:
            return
        with torch.no_grad():
            patches = [
                self.model.memory.patches(self.model.normalise(batch["image"].to(self.device))).cpu()
                for batch in self.trainer.train_dataloader
            ]
        self.model.memory.fit(torch.cat(patches), self.settings.memory_size, self.settings.seed)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(
            self.model.parameters(), lr=self.settings.learning_rate, weight_decay=self.settings.weight_decay
        )

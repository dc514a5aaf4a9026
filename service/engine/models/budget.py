"""An epoch and wall-clock training budget for models trained by gradient descent over many epochs (FastFlow, Reverse
Distillation): training stops after `max_epochs` or `max_minutes`, whichever comes first, so a slow machine still
ends a job in bounded time."""

import time
from typing import Any, ClassVar

from pydantic import BaseModel, Field
from torch import nn

from service.engine.models.base import AnomalyModule, Hyperparameters


class EpochBudgetHyperparameters(BaseModel):
    """Mixed into a model's hyperparameters: how long it may train."""

    max_epochs: int = Field(100, ge=1)
    max_minutes: float = Field(20.0, gt=0)
    batch_size: int = Field(16, ge=1)


class EpochBudget:
    """Tracks one training run; `start()` when training starts, then ask `spent(epochs_done)`."""

    def __init__(self, max_epochs: int, max_minutes: float) -> None:
        self.max_epochs = max_epochs
        self.max_seconds = 60.0 * max_minutes
        self.started_at = time.monotonic()

    def start(self) -> None:
        self.started_at = time.monotonic()

    def out_of_time(self) -> bool:
        return time.monotonic() - self.started_at >= self.max_seconds

    def spent(self, epochs_done: int) -> bool:
        return epochs_done >= self.max_epochs or self.out_of_time()


class EpochBudgetedModule(AnomalyModule):
    """An AnomalyModule that stops its trainer once its `EpochBudget` is spent, so the trainer may run unbounded."""

    trainer_arguments: ClassVar[dict[str, Any]] = {"max_epochs": -1}

    def __init__(self, model: nn.Module, hyperparameters: Hyperparameters, budget: EpochBudget) -> None:
        super().__init__(model, hyperparameters)
        self.budget = budget

    def on_train_start(self) -> None:
        self.budget.start()

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        del outputs, batch, batch_idx
        if self.budget.out_of_time():
            self.trainer.should_stop = True

    def on_train_epoch_end(self) -> None:
        if self.budget.spent(self.current_epoch + 1):
            self.trainer.should_stop = True

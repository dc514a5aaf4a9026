"""Progress reporting and cancellation for training runs."""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import lightning as L

from service.engine.errors import TrainingCancelledError
from service.engine.models.base import Hyperparameters

# Share of the whole run (start, end in percent) given to each phase, so `percent` moves forward across phases.
PHASES: dict[str, tuple[float, float]] = {
    "loading": (0.0, 5.0),
    "training": (5.0, 80.0),
    "validating": (80.0, 92.0),
    "evaluating": (92.0, 95.0),
    "exporting": (95.0, 100.0),
}


@dataclass(frozen=True)
class Progress:
    """One progress event: `step` of `total` within `phase`; `percent` is the whole run's completion (0-100)."""

    phase: str
    step: int
    total: int
    percent: float
    message: str

    @classmethod
    def of(cls, phase: str, step: int, total: int, message: str = "") -> "Progress":
        start, end = PHASES[phase]
        fraction = min(step / total, 1.0) if total > 0 else 1.0
        return cls(phase, step, total, round(start + (end - start) * fraction, 2), message or f"{phase} {step}/{total}")


ProgressSink = Callable[[Progress], None]
CancelFlag = threading.Event | Callable[[], bool]


def is_cancelled(cancel: CancelFlag | None) -> bool:
    if cancel is None:
        return False
    if isinstance(cancel, threading.Event):
        return cancel.is_set()
    return bool(cancel())


def check_cancelled(cancel: CancelFlag | None) -> None:
    if is_cancelled(cancel):
        raise TrainingCancelledError("training was cancelled")


class Reporter:
    """Sends progress events to an optional sink and checks the cancel flag with each one."""

    def __init__(self, sink: ProgressSink | None, cancel: CancelFlag | None) -> None:
        self.sink = sink
        self.cancel = cancel

    def report(self, phase: str, step: int, total: int, message: str = "") -> None:
        check_cancelled(self.cancel)
        if self.sink is not None:
            self.sink(Progress.of(phase, step, total, message))


class ProgressCallback(L.Callback):
    """Reports each training and validation batch and stops the run (TrainingCancelledError) once cancel is set.

    Models that stop themselves declare their budget as `max_epochs` or `max_steps` hyperparameters; the planned
    number of training batches is the smallest of those and the trainer's own limits.
    """

    def __init__(self, reporter: Reporter, hyperparameters: Hyperparameters) -> None:
        self.reporter = reporter
        self.hyperparameters = hyperparameters
        self.training_step = 0

    def _training_total(self, trainer: L.Trainer) -> int:
        per_epoch = int(trainer.num_training_batches)
        limits = [
            epochs * per_epoch
            for epochs in (trainer.max_epochs, getattr(self.hyperparameters, "max_epochs", None))
            if epochs is not None and epochs > 0
        ]
        limits += [
            steps
            for steps in (trainer.max_steps, getattr(self.hyperparameters, "max_steps", None))
            if steps is not None and steps > 0
        ]
        return min(limits) if limits else per_epoch

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.training_step = 0
        self.reporter.report("training", 0, self._training_total(trainer))

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        check_cancelled(self.reporter.cancel)

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        self.training_step += 1
        self.reporter.report("training", self.training_step, self._training_total(trainer))

    def on_validation_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int, dataloader_idx: int = 0
    ) -> None:
        check_cancelled(self.reporter.cancel)

    def on_validation_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if trainer.sanity_checking:
            return
        total = int(sum(trainer.num_val_batches))
        self.reporter.report("validating", batch_idx + 1, total)

"""Training of EfficientAD-S, in two phases within one budget (steps and minutes, whichever ends first).

1. Distillation (the first `distillation_fraction` of the budget): the teacher PDN learns to reproduce the backbone's
   aligned, standardised features (`distillation.py`) on the training images (flipped, re-exposed) and as many again
   procedural images (`procedural.py`), which stand in for the paper's ImageNet pretraining of the teacher.
2. Student and autoencoder (the rest), as in the paper: the student's first half imitates the frozen teacher with the
   hard feature loss plus a penalty on procedural images (the paper's ImageNet penalty), the autoencoder reproduces
   the teacher from colour-jittered images and the student's second half imitates the autoencoder.

Between them the teacher's channels are standardised on the training images; at the end the quantiles that balance
the two maps are measured on the training images (`EfficientAdModel`'s buffers, so every runtime applies them).
Both learning rates drop tenfold for the last 5 % of their phase, as in the paper.
"""

import math
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from service.engine.augment import vary_normal_images
from service.engine.backbones import build_feature_extractor
from service.engine.models.base import AnomalyModule
from service.engine.models.efficient_ad.distillation import STATS_IMAGES, DistillationTarget, channel_statistics
from service.engine.models.efficient_ad.hyperparameters import EfficientAdHyperparameters
from service.engine.models.efficient_ad.loss import colour_jitter, hard_feature_loss, upper_quantile
from service.engine.models.efficient_ad.procedural import procedural_images
from service.engine.models.efficient_ad.torch_model import EfficientAdModel, MapQuantiles

LOW_QUANTILE, HIGH_QUANTILE = 0.9, 0.995
LATE_PHASE, LATE_RATE_FACTOR = 0.95, 0.1


class EfficientAdLightning(AnomalyModule):
    """Teacher, student and autoencoder seeded with `seed` (without touching the global RNG); the backbone the
    teacher is distilled from lives here, not in the exported model. Stops itself when its budget is spent."""

    trainer_arguments: ClassVar[dict[str, Any]] = {"max_epochs": -1}

    def __init__(self, hyperparameters: EfficientAdHyperparameters) -> None:
        settings = hyperparameters
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(settings.seed)
            model = EfficientAdModel(settings.image_size, settings.out_channels)
        super().__init__(model, settings)
        self.settings = settings
        self.automatic_optimization = False
        backbone = build_feature_extractor(settings.backbone, settings.layers, settings.weights, seed=settings.seed)
        self.target = DistillationTarget(backbone, settings.out_channels)
        self.generator = torch.Generator().manual_seed(settings.seed)
        self.distillation_steps = min(
            settings.max_steps - 1, max(1, round(settings.distillation_fraction * settings.max_steps))
        )
        self.steps = 0
        self.student_steps = 0
        self.distilled = False
        self._started_at = time.monotonic()
        self._student_started_at = self._started_at
        self._student_minutes = settings.max_minutes

    # -- budget ---------------------------------------------------------------------------------------------------

    def _minutes(self, since: float) -> float:
        return (time.monotonic() - since) / 60

    def distillation_spent(self) -> float:
        by_time = self._minutes(self._started_at) / (self.settings.distillation_fraction * self.settings.max_minutes)
        return max(self.steps / self.distillation_steps, by_time)

    def student_spent(self) -> float:
        by_steps = self.student_steps / (self.settings.max_steps - self.distillation_steps)
        return max(by_steps, self._minutes(self._student_started_at) / self._student_minutes)

    # -- Lightning hooks -------------------------------------------------------------------------------------------

    def on_train_start(self) -> None:
        self._started_at = time.monotonic()
        images = self._training_images()
        with torch.no_grad():
            raw = [self.target.raw(self.model.normalization(batch)) for batch in images]
        self.target.mean, self.target.std = channel_statistics(raw)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        del batch_idx
        teacher_optimiser, student_optimiser = self.optimizers()
        if not self.distilled and self.steps > 0 and self.distillation_spent() >= 1.0:
            self._freeze_teacher()
        distilling = not self.distilled
        optimiser = teacher_optimiser if distilling else student_optimiser
        progress = self.distillation_spent() if distilling else self.student_spent()
        for group in optimiser.optimizer.param_groups:
            group["lr"] = self.settings.learning_rate * (LATE_RATE_FACTOR if progress >= LATE_PHASE else 1.0)
        images = batch["image"].detach().cpu()
        loss = self._distillation_loss(images) if distilling else self._student_loss(images)
        optimiser.zero_grad()
        self.manual_backward(loss)
        optimiser.step()
        self.steps += 1
        self.student_steps += 0 if distilling else 1
        self.log("train_loss", loss.detach(), prog_bar=True, batch_size=images.shape[0])
        return loss.detach()

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        del outputs, batch, batch_idx
        if self.distilled and self.student_steps > 0 and self.student_spent() >= 1.0:
            self.trainer.should_stop = True

    def on_train_end(self) -> None:
        if not self.distilled:
            self._freeze_teacher()
        self._fit_map_quantiles()

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        settings = self.settings
        teacher = torch.optim.Adam(
            self.model.teacher.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay
        )
        trained = [*self.model.student.parameters(), *self.model.autoencoder.parameters()]
        student = torch.optim.Adam(trained, lr=settings.learning_rate, weight_decay=settings.weight_decay)
        return [teacher, student]

    # -- the two phases --------------------------------------------------------------------------------------------

    def _procedural(self, count: int) -> torch.Tensor:
        return procedural_images(count, self.settings.image_size, self.generator).to(self.device)

    def _distillation_loss(self, images: torch.Tensor) -> torch.Tensor:
        varied = vary_normal_images(images, flip=True, brightness=0.1, contrast=0.2, generator=self.generator)
        inputs = torch.cat([varied.to(self.device), self._procedural(images.shape[0])])
        normalised = self.model.normalization(inputs)
        return F.mse_loss(self.model.teacher(normalised), self.target(normalised))

    def _student_loss(self, images: torch.Tensor) -> torch.Tensor:
        model, channels = self.model, self.model.out_channels
        normalised = model.normalization(images.to(self.device))
        imitation = hard_feature_loss(
            model.teacher_map(normalised), model.student(normalised)[:, :channels], self.settings.hard_quantile
        )
        penalty_images = model.normalization(self._procedural(max(1, math.ceil(images.shape[0] / 2))))
        penalty = (model.student(penalty_images)[:, :channels] ** 2).mean()
        jittered = model.normalization(colour_jitter(images, self.generator).to(self.device))
        reconstruction = model.autoencoder(jittered)
        autoencoder = F.mse_loss(reconstruction, model.teacher_map(jittered))
        student_autoencoder = F.mse_loss(model.student(jittered)[:, channels:], reconstruction)
        return imitation + self.settings.penalty_weight * penalty + autoencoder + student_autoencoder

    # -- constants measured on the training images -----------------------------------------------------------------

    def _training_images(self) -> Iterator[torch.Tensor]:
        """Up to STATS_IMAGES training images, in batches, on the module's device (as loaded: no augmentation)."""
        seen = 0
        for batch in self.trainer.train_dataloader:
            if seen >= STATS_IMAGES:
                return
            images = batch["image"][: STATS_IMAGES - seen]
            seen += images.shape[0]
            yield images.to(self.device)

    def _freeze_teacher(self) -> None:
        teacher = self.model.teacher
        teacher.requires_grad_(False)
        with torch.no_grad():
            maps = [teacher(self.model.normalization(batch)) for batch in self._training_images()]
        self.model.teacher_mean, self.model.teacher_std = channel_statistics(maps)
        self.distilled = True
        self._student_started_at = time.monotonic()
        self._student_minutes = max(1e-3, self.settings.max_minutes - self._minutes(self._started_at))

    def _fit_map_quantiles(self) -> None:
        was_training = self.model.training
        self.model.eval()
        with torch.no_grad():
            maps = [self.model.raw_maps(batch) for batch in self._training_images()]
        self.model.train(was_training)
        for index, quantiles in enumerate((self.model.student_teacher_quantiles, self.model.autoencoder_quantiles)):
            _fit_quantiles(quantiles, torch.cat([pair[index] for pair in maps]))


def _fit_quantiles(quantiles: MapQuantiles, maps: torch.Tensor) -> None:
    quantiles.low = upper_quantile(maps, LOW_QUANTILE).reshape(())
    quantiles.high = upper_quantile(maps, HIGH_QUANTILE).reshape(())

"""PaDiM training: one pass over the good images accumulating per-position Gaussians; no optimiser."""

import torch

from service.engine.models.base import OnePassAnomalyModule
from service.engine.models.padim.gaussian import StreamingGaussians
from service.engine.models.padim.hyperparameters import PadimHyperparameters
from service.engine.models.padim.torch_model import PadimModel


class PadimLightning(OnePassAnomalyModule):
    def __init__(self, hyperparameters: PadimHyperparameters) -> None:
        model = PadimModel(
            backbone=hyperparameters.backbone,
            layers=hyperparameters.layers,
            feature_dim=hyperparameters.feature_dim,
            image_size=hyperparameters.image_size,
            weights=hyperparameters.weights,
            seed=hyperparameters.seed,
        )
        super().__init__(model, hyperparameters)
        self.hyperparameters: PadimHyperparameters = hyperparameters
        self._gaussians = StreamingGaussians()

    def on_train_epoch_start(self) -> None:
        self._gaussians = StreamingGaussians()

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        del batch_idx
        with torch.no_grad():
            self._gaussians.update(self.model.embed(batch["image"]))

    def finish_pass(self) -> None:
        if self._gaussians.count == 0:
            return
        mean, inverse_covariance = self._gaussians.finish()
        self._gaussians = StreamingGaussians()
        self.model.set_gaussians(mean.to(self.device), inverse_covariance.to(self.device))

"""PatchCore training: one pass over the good images collecting patch features, then a coreset as the memory bank."""

import torch

from service.engine.models.base import OnePassAnomalyModule
from service.engine.models.coreset import greedy_coreset_indices
from service.engine.models.patchcore.hyperparameters import PatchcoreHyperparameters
from service.engine.models.patchcore.torch_model import PatchcoreModel
from service.engine.models.reservoir import RowReservoir


class PatchcoreLightning(OnePassAnomalyModule):
    """No optimiser: `training_step` only embeds; the memory bank is built when the (single) epoch ends."""

    def __init__(self, hyperparameters: PatchcoreHyperparameters) -> None:
        model = PatchcoreModel(
            backbone=hyperparameters.backbone,
            layers=hyperparameters.layers,
            pre_projection_dim=hyperparameters.pre_projection_dim,
            num_neighbors=hyperparameters.num_neighbors,
            weights=hyperparameters.weights,
            seed=hyperparameters.seed,
        )
        super().__init__(model, hyperparameters)
        self.hyperparameters: PatchcoreHyperparameters = hyperparameters
        self._patches = self._new_reservoir()

    def _new_reservoir(self) -> RowReservoir:
        return RowReservoir(self.hyperparameters.max_candidate_patches, seed=self.hyperparameters.seed)

    def on_train_epoch_start(self) -> None:
        self._patches = self._new_reservoir()

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        del batch_idx
        with torch.no_grad():
            embedding = self.model.embed(batch["image"])
        self._patches.add(embedding)

    def finish_pass(self) -> None:
        if self._patches.seen == 0:
            return
        seen, embeddings = self._patches.seen, self._patches.rows()
        self._patches = self._new_reservoir()
        self.model.set_memory_bank(self.select_memory_bank(embeddings, seen=seen))

    def select_memory_bank(self, embeddings: torch.Tensor, *, seen: int | None = None) -> torch.Tensor:
        """The coreset of `embeddings`, sized by the ratio of every patch `seen` (the reservoir may hold fewer)."""
        wanted = round(self.hyperparameters.coreset_ratio * (seen or embeddings.shape[0]))
        count = max(1, min(wanted, self.hyperparameters.max_memory_bank))
        if count >= embeddings.shape[0]:
            return embeddings
        return embeddings[greedy_coreset_indices(embeddings, count, seed=self.hyperparameters.seed)]

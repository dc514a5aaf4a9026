"""A quiet CPU Lightning trainer for model tests: no logs, checkpoints, progress bars or summaries."""

from pathlib import Path

import lightning as L

from service.engine.models.base import AnomalyModule


def cpu_trainer(
    module: AnomalyModule | type[AnomalyModule], root: Path | None = None, callbacks: list[L.Callback] | None = None
) -> L.Trainer:
    """A trainer with the arguments `module` asks for (`trainer_arguments`), writing nothing outside `root`."""
    return L.Trainer(
        **module.trainer_arguments,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=callbacks or [],
        default_root_dir=root,
    )

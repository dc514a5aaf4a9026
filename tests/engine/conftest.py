"""Engine fixtures: one tiny synthetic dataset per session, and each model trained and saved at most once."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from service.engine import artifacts
from service.engine.data import ImageRecord, mvtec_records
from service.engine.registry import get_spec
from service.engine.training import TrainedModel, fit
from tests.helpers.data import synthetic_dataset

TINY_IMAGE_SIZE = 64


def tiny_hyperparameters(model_name: str) -> dict[str, Any]:
    """The smallest run of any registered model that still exercises training: 64 px, a handful of steps, and the
    fewest flow steps (FastFlow's graph, and so its export, grows with them)."""
    fields = get_spec(model_name).hyperparameters.model_fields
    values: dict[str, Any] = {"image_size": TINY_IMAGE_SIZE}
    limits = {"max_epochs": 1, "max_steps": 3, "batch_size": 8, "flow_steps": 2}
    values.update({name: value for name, value in limits.items() if name in fields})
    return values


@dataclass(frozen=True)
class TinyData:
    root: Path
    train: list[ImageRecord]
    val: list[ImageRecord]


@dataclass(frozen=True)
class SavedModel:
    trained: TrainedModel
    folder: Path


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> TinyData:
    root = synthetic_dataset(tmp_path_factory.mktemp("engine-data"), n_train=8, n_test_good=4, n_test_defect=4)
    return TinyData(root, mvtec_records(root, "train"), mvtec_records(root, "test"))


@pytest.fixture(scope="session")
def saved_model(tiny_data: TinyData, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], SavedModel]:
    """`saved_model(name)`: the model fitted on `tiny_data` with random backbone weights and saved; cached."""
    cache: dict[str, SavedModel] = {}

    def get(model_name: str) -> SavedModel:
        if model_name not in cache:
            trained = fit(
                model_name,
                tiny_data.train,
                tiny_data.val,
                hyperparameters=tiny_hyperparameters(model_name),
                weights="random",
                accelerator="cpu",
            )
            folder = artifacts.save(trained, tmp_path_factory.mktemp(f"saved-{model_name}") / "model")
            cache[model_name] = SavedModel(trained, folder)
        return cache[model_name]

    return get

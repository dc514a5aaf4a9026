"""`num_cpus` / `num_gpus` among Hyperparameters: checked at CreateModel, kept from the engine, read by the Ray runner."""

from pathlib import Path

import pytest

from service.domain.algorithms import choose_training
from service.domain.training_resources import requested_resources
from service.errors import ValidationException


def test_resource_keys_are_the_executors_not_the_engines(tmp_path: Path) -> None:
    choice = choose_training(
        algorithm="patchcore",
        hyperparameters={"num_cpus": "2", "num_gpus": "1", "coreset_ratio": "0.5"},
        backbone_weights="random",
        image_size=64,
        weights_dir=tmp_path,
    )
    assert requested_resources(choice.hyperparameters) == {"num_cpus": 2.0, "num_gpus": 1.0}
    assert "num_cpus" not in choice.engine_hyperparameters() and "num_gpus" not in choice.engine_hyperparameters()


@pytest.mark.parametrize(
    ("key", "value"), [("num_cpus", "0"), ("num_cpus", "many"), ("num_gpus", "-1"), ("num_gpus", "nan")]
)
def test_bad_resource_values_are_refused_with_the_rule(key: str, value: str) -> None:
    with pytest.raises(ValidationException, match=f"{key} must be a number"):
        requested_resources({key: value})

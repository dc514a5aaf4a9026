"""What one training run asks its executor for: `num_cpus` and `num_gpus` among a model's Hyperparameters, else the
deployment's LV_TRAINING_NUM_CPUS / LV_TRAINING_NUM_GPUS. Only the Ray executor schedules by them; the engine never
sees these keys."""

import math
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from service.db.engine import transaction
from service.db.models import Model, TrainingJob
from service.errors import ValidationException

RESOURCE_KEYS = ("num_cpus", "num_gpus")


@dataclass(frozen=True)
class TrainingResources:
    num_cpus: float
    num_gpus: float


def requested_resources(hyperparameters: Mapping[str, object]) -> dict[str, float]:
    """The resource keys a caller set, as numbers; ValidationException for a value that is not one."""
    requested = {}
    for key in RESOURCE_KEYS:
        if key not in hyperparameters:
            continue
        try:
            value = float(str(hyperparameters[key]))
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < 0 or (key == "num_cpus" and value == 0):
            raise ValidationException(
                f"Invalid Hyperparameters: {key} must be a number (CPUs above 0, GPUs 0 or more); got "
                f"{hyperparameters[key]!r}."
            )
        requested[key] = value
    return requested


def job_resources(engine: Engine, job_id: int, *, default: TrainingResources) -> TrainingResources:
    """The resources of the model a training job trains."""
    with transaction(engine) as session:
        job = session.get(TrainingJob, job_id)
        model = session.get(Model, job.model_id) if job is not None else None
        requested = requested_resources(model.hyperparameters) if model is not None else {}
    return TrainingResources(
        num_cpus=requested.get("num_cpus", default.num_cpus), num_gpus=requested.get("num_gpus", default.num_gpus)
    )

"""The model registry: the static table of built-in models, names -> typed hyperparameters and a builder.

Adding a model is copying a folder under `models/` (hyperparameters.py, torch_model.py, lightning_model.py and an
`__init__.py` defining its `SPEC`) and adding one line to `BUILTIN_MODELS`, and its name to the SDK's `Algorithm` and
the service model's `AlgorithmName` enum (the CLI's choices; `tests/unit/test_algorithm_choices.py` keeps them equal).
"""

from typing import Any

from pydantic import ValidationError

from service.engine.errors import EngineError
from service.engine.models import draem, efficient_ad, fastflow, padim, patchcore, reverse_distillation, stfpm
from service.engine.models.base import AnomalyModule, Hyperparameters, ModelSpec

BUILTIN_MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        draem.SPEC,
        efficient_ad.SPEC,
        fastflow.SPEC,
        padim.SPEC,
        patchcore.SPEC,
        reverse_distillation.SPEC,
        stfpm.SPEC,
    )
}


def list_models() -> list[ModelSpec]:
    return sorted(BUILTIN_MODELS.values(), key=lambda spec: spec.name)


def get_spec(name: str) -> ModelSpec:
    try:
        return BUILTIN_MODELS[name]
    except KeyError:
        known = ", ".join(sorted(BUILTIN_MODELS))
        raise EngineError(f"unknown model {name!r}; known models: {known}") from None


def parse_hyperparameters(name: str, values: dict[str, Any]) -> Hyperparameters:
    """Validate raw values (e.g. strings from an API request) against the model's typed hyperparameters."""
    spec = get_spec(name)
    try:
        return spec.hyperparameters(**values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or name}: {e['msg']}" for e in exc.errors())
        raise EngineError(f"invalid hyperparameters for {name}: {problems}") from None


def get_model(name: str, **hyperparameters: Any) -> AnomalyModule:
    spec = get_spec(name)
    return spec.build(parse_hyperparameters(name, hyperparameters))

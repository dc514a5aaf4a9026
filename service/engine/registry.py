"""The model registry: names -> typed hyperparameters and a builder."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from service.engine.errors import EngineError
from service.engine.models.base import AnomalyModule, Hyperparameters


@dataclass(frozen=True)
class ModelSpec:
    """What the registry knows of one model.

    `needs_pretrained`: the model is only useful with ImageNet backbone weights (PatchCore, PaDiM, STFPM's teacher).
    """

    name: str
    description: str
    hyperparameters: type[Hyperparameters]
    build: Callable[[Any], AnomalyModule]
    needs_pretrained: bool


_REGISTRY: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    if spec.name in _REGISTRY:
        raise EngineError(f"model {spec.name!r} is already registered")
    _REGISTRY[spec.name] = spec
    return spec


def list_models() -> list[ModelSpec]:
    _load_builtin_models()
    return sorted(_REGISTRY.values(), key=lambda spec: spec.name)


def get_spec(name: str) -> ModelSpec:
    _load_builtin_models()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
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


def _load_builtin_models() -> None:
    """Import the built-in model packages; each registers itself on import."""
    from service.engine.models import builtin  # noqa: F401

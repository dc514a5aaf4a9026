"""The engine's errors. The service maps them to its AWS-shaped errors."""


class EngineError(Exception):
    """A problem the caller can act on: bad hyperparameters, unknown model, unusable data."""


class WeightsUnavailableError(EngineError):
    """Backbone weights are neither cached nor downloadable."""


class TrainingCancelledError(EngineError):
    """Training stopped because the caller asked it to."""

"""Training harness: `fit` any registered model, with progress, cancellation, thresholds and evaluation."""

from service.engine.training.evaluation import Evaluation, ImageEvaluation
from service.engine.training.harness import fit, resolve_hyperparameters
from service.engine.training.progress import PHASES, CancelFlag, Progress, ProgressSink
from service.engine.training.trained_model import TrainedModel

__all__ = [
    "PHASES",
    "CancelFlag",
    "Evaluation",
    "ImageEvaluation",
    "Progress",
    "ProgressSink",
    "TrainedModel",
    "fit",
    "resolve_hyperparameters",
]

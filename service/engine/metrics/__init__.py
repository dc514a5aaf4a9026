"""Evaluation metrics and operating-point search: numpy or torch in, plain floats and numpy arrays out.

Convention everywhere: a sample (or pixel) is anomalous when its score >= the threshold; labels are 0 normal, 1
anomalous. Undefined cases (one class only, no defect regions, unreachable targets) raise ValueError.
"""

from service.engine.metrics.image import (
    Confusion,
    average_precision,
    confusion_at,
    f1_max,
    image_auroc,
    pr_curve,
    roc_curve,
    threshold_for_recall,
)
from service.engine.metrics.pixel import aupro, pixel_auroc, pixel_f1_max
from service.engine.metrics.targets import TargetChoice, TargetMetric, TargetUnreachable, choose_threshold

__all__ = [
    "Confusion",
    "TargetChoice",
    "TargetMetric",
    "TargetUnreachable",
    "aupro",
    "average_precision",
    "choose_threshold",
    "confusion_at",
    "f1_max",
    "image_auroc",
    "pixel_auroc",
    "pixel_f1_max",
    "pr_curve",
    "roc_curve",
    "threshold_for_recall",
]

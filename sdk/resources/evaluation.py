"""Shapes of the openlv evaluation and threshold extensions (DescribeModelEvaluation, UpdateModelThreshold...)."""

from datetime import datetime
from typing import Any

from pydantic import Field

from sdk.resources._base import WireModel


class ModelPerformance(WireModel):
    f1_score: float | None = Field(default=None, alias="F1Score")
    recall: float | None = None
    precision: float | None = None


class ConfusionMatrix(WireModel):
    true_positives: int
    false_positives: int
    true_negatives: int
    false_negatives: int


class ThresholdPolicy(WireModel):
    """How the threshold was chosen: F1_OPTIMAL, MANUAL, TARGET_RECALL, TARGET_PRECISION or TARGET_FPR, and its value."""

    policy: str
    value: float | None = None


class OperatingPoint(WireModel):
    """What the model's image threshold does on its test set."""

    threshold: float
    performance: ModelPerformance
    false_positive_rate: float
    confusion_matrix: ConfusionMatrix
    threshold_policy: ThresholdPolicy | None = None


class ScoredImage(WireModel):
    source_ref: str
    label: str
    score: float
    is_anomalous: bool


class ModelEvaluation(OperatingPoint):
    """`model.metrics`: the current operating point, the threshold-free metrics and every test image's score."""

    metrics: dict[str, Any] = Field(default_factory=dict)
    images: list[ScoredImage] = Field(default_factory=list)


class Curve(WireModel):
    thresholds: list[float]


class RocCurve(Curve):
    false_positive_rate: list[float]
    true_positive_rate: list[float]


class PrecisionRecallCurve(Curve):
    precision: list[float]
    recall: list[float]


class ModelCurves(WireModel):
    roc: RocCurve
    precision_recall: PrecisionRecallCurve


class ThresholdChange(WireModel):
    changed_at: datetime
    changed_by: str | None = None
    old_threshold: float | None = None
    new_threshold: float
    policy: ThresholdPolicy


class TrainingLogLine(WireModel):
    id: int
    timestamp: datetime
    message: str


class TrainingJob(WireModel):
    """DescribeTrainingJob: where a model's training stands (phase, percent) and its log lines."""

    state: str
    phase: str | None = None
    percent: float | None = None
    message: str | None = None
    attempts: int = 0
    cancel_requested: bool = False
    creation_timestamp: datetime | None = None
    start_timestamp: datetime | None = None
    end_timestamp: datetime | None = None
    log: list[TrainingLogLine] = Field(default_factory=list)

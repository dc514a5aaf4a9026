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
    """How the threshold was chosen: F1_OPTIMAL, MANUAL, TARGET_RECALL, TARGET_PRECISION or TARGET_FPR, its value and,
    for a target, the confidence its bound was asked to meet the target with."""

    policy: str
    value: float | None = None
    confidence: float | None = None


class RateInterval(WireModel):
    """A test-set rate (successes out of trials) with its two-sided Clopper-Pearson interval."""

    estimate: float
    lower: float
    upper: float
    successes: int
    trials: int


class MetricIntervals(WireModel):
    """Intervals of the rates at the threshold; a rate without trials (e.g. recall without defects) is absent."""

    confidence_level: float
    precision: RateInterval | None = None
    recall: RateInterval | None = None
    false_positive_rate: RateInterval | None = None


class TargetOutcome(WireModel):
    """What a target policy achieves: the metric's estimate and, with a confidence, its one-sided bound."""

    metric: str
    value: float
    estimate: float
    confidence: float | None = None
    bound: float | None = None
    bound_side: str | None = None


class OperatingPoint(WireModel):
    """What the model's image threshold does on its test set."""

    threshold: float
    performance: ModelPerformance
    false_positive_rate: float
    confusion_matrix: ConfusionMatrix
    threshold_policy: ThresholdPolicy | None = None
    intervals: MetricIntervals | None = None
    target: TargetOutcome | None = None


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
    """The ROC curve; the *_lower / *_upper lists are each point's Clopper-Pearson band."""

    false_positive_rate: list[float]
    true_positive_rate: list[float]
    false_positive_rate_lower: list[float] = Field(default_factory=list)
    false_positive_rate_upper: list[float] = Field(default_factory=list)
    true_positive_rate_lower: list[float] = Field(default_factory=list)
    true_positive_rate_upper: list[float] = Field(default_factory=list)


class PrecisionRecallCurve(Curve):
    """The precision-recall curve; the *_lower / *_upper lists are each point's Clopper-Pearson band."""

    precision: list[float]
    recall: list[float]
    precision_lower: list[float] = Field(default_factory=list)
    precision_upper: list[float] = Field(default_factory=list)
    recall_lower: list[float] = Field(default_factory=list)
    recall_upper: list[float] = Field(default_factory=list)


class ModelCurves(WireModel):
    roc: RocCurve
    precision_recall: PrecisionRecallCurve
    confidence_level: float | None = None


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
